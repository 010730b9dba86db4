// Package bench holds the call-path benchmarks: a generated stub's unary
// call against the bare dubbo-go call it wraps, and the cost of creating a
// service with and without .proto retry defaults, on a real Triple server
// on the loopback interface.
//
//	go -C example test -run '^$' -bench . -benchmem -count 6 ./internal/bench
//
// The server starts with the first benchmark, so go test without -bench
// costs nothing but the build.
package bench
