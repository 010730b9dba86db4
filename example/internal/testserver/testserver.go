// Package testserver is the Triple server that a test process runs for its
// own tests (packages e2e, policy, wirenames): TestMain starts it with Run,
// and the tests reach it with Client.
package testserver

import (
	"fmt"
	"os"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/loopback"
)

// addr is the server's address, once Run has started it.
var addr string

// Run starts a Triple server on a free loopback port with the services
// register adds, runs the tests of m, stops the server and exits. If the
// server does not start, it exits at once, saying why.
func Run(m *testing.M, register func(*server.Server) error) {
	var stop func()
	var err error
	addr, stop, err = loopback.Serve(register)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the Triple server:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// Client returns a client of the server, with opts.
func Client(t testing.TB, opts ...client.ClientOption) *client.Client {
	t.Helper()
	cli, err := client.NewClient(append([]client.ClientOption{client.WithClientURL("tri://" + addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}
