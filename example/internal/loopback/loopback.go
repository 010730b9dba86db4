// Package loopback starts dubbo-go Triple servers on free loopback ports,
// for the example's demo and tests.
package loopback

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol"
	"dubbo.apache.org/dubbo-go/v3/server"
)

// Serve starts a Triple server on a free port of 127.0.0.1 with the
// services that register adds, and returns once it accepts connections.
// stop shuts it down.
//
// A process can export a given service only once, so it can run one server
// with a given service.
func Serve(register func(*server.Server) error) (addr string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	srv, err := server.NewServer(server.WithServerProtocol(
		protocol.WithTriple(),
		protocol.WithIp("127.0.0.1"),
		protocol.WithPort(port),
	))
	if err != nil {
		return "", nil, err
	}
	if err := register(srv); err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.ServeContext(ctx) }()

	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return addr, cancel, nil
		}
		select {
		case err := <-served:
			cancel()
			return "", nil, fmt.Errorf("the server stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			return "", nil, fmt.Errorf("nothing listens on %s after 30s", addr)
		}
	}
}

// freePort returns a port of 127.0.0.1 that nothing listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
