// Package hedgev1 is the service of the hedging measurement: hedge.proto,
// and what protoc-gen-go, protoc-gen-go-grpc and protoc-gen-go-retry
// generate from it. Regenerate it, with the other stubs of the bench
// module, with go -C bench generate ./... (the directive is in package
// peersv1).
package hedgev1
