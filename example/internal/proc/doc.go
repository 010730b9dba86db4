// Package proc is what the example's tests do with processes and loopback
// ports. port.go: a free port of 127.0.0.1, and waiting until something
// accepts connections there, or is otherwise ready; buffer.go: a buffer a
// process writes while the test reads it; child.go: the test binary run
// again as a child process (a provider, a consumer), which TestMain turns
// into the role its environment names.
//
// It imports neither dubbo-go nor package testing: package loopback, which
// the demo imports, and package zookeeper build on it.
package proc
