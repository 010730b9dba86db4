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

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/proc"
)

// Serve starts a Triple server on a free port of 127.0.0.1 with the
// services that register adds, and returns once it accepts connections.
// stop shuts it down.
//
// A process can export a given service only once, so it can run one server
// with a given service.
func Serve(register func(*server.Server) error) (addr string, stop func(), err error) {
	port, err := proc.FreePort()
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
	if err := proc.Await(30*time.Second, 20*time.Millisecond, func() error {
		select {
		case err := <-served:
			return proc.Gone(fmt.Errorf("the server stopped: %v", err))
		default:
			return proc.Accepting(addr)
		}
	}); err != nil {
		cancel()
		return "", nil, fmt.Errorf("serving on %s: %v", addr, err)
	}
	return addr, cancel, nil
}
