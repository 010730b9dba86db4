package testbed

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	dubbo "dubbo.apache.org/dubbo-go/v3"
	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/global"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol"
	"dubbo.apache.org/dubbo-go/v3/server"
)

// A ServeOption changes how Serve starts a server.
type ServeOption func(*serveConfig)

type serveConfig struct {
	ins  *dubbo.Instance
	http http.Handler
}

// WithInstance makes the server with ins.NewServer, so that it registers
// its services where ins says, instead of server.NewServer.
func WithInstance(ins *dubbo.Instance) ServeOption {
	return func(c *serveConfig) { c.ins = ins }
}

// WithHTTP serves h on the server's port, for the requests that are not
// Triple calls, beside readyPath.
func WithHTTP(h http.Handler) ServeOption {
	return func(c *serveConfig) { c.http = h }
}

// readyPath is where a server that Serve starts answers HTTP, once
// dubbo-go has exported its services and registered them: it mounts the
// handler attached to a server only then. (With dubbo-go's default,
// application-level registration, it registers the instance once per
// exported service, deleting and creating the same node each time: a
// consumer that looks meanwhile sees no provider.)
const readyPath = "/testbed/ready"

// Serve starts a Triple server on a free port of 127.0.0.1 with the
// services register adds, and returns its address once it serves them.
// stop shuts it down, and waits, for at most 10 s, until dubbo-go has let
// it go.
//
// A process can export a given service only once, so it can run one server
// with a given service: a second provider is a process of its own.
func Serve(register func(*server.Server) error, opts ...ServeOption) (addr string, stop func(), err error) {
	var cfg serveConfig
	for _, o := range opts {
		o(&cfg)
	}
	port, err := FreePort()
	if err != nil {
		return "", nil, err
	}
	serverOpts := []server.ServerOption{server.WithServerProtocol(
		protocol.WithTriple(),
		protocol.WithIp(Loopback),
		protocol.WithPort(port),
	)}
	newServer := server.NewServer
	if cfg.ins != nil {
		newServer = cfg.ins.NewServer // remote metadata: see Registry.Instance
	} else {
		// With the default, local metadata, dubbo-go serves a
		// MetadataService on a random port of every interface.
		app := global.DefaultApplicationConfig()
		app.MetadataType = constant.RemoteMetadataStorageType
		serverOpts = append(serverOpts, server.SetServerApplication(app))
	}
	srv, err := newServer(serverOpts...)
	if err != nil {
		return "", nil, err
	}
	if err := register(srv); err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc(readyPath, func(http.ResponseWriter, *http.Request) {})
	if cfg.http != nil {
		mux.Handle("/", cfg.http)
	}
	if err := srv.AttachHTTPHandler(mux); err != nil {
		return "", nil, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.ServeContext(ctx) }()
	stop = func() {
		cancel()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
		}
	}

	addr = net.JoinHostPort(Loopback, strconv.Itoa(port))
	hc := &http.Client{Timeout: 5 * time.Second}
	if err := Await(30*time.Second, 20*time.Millisecond, func() error {
		select {
		case err := <-served:
			return Gone(fmt.Errorf("the server stopped: %v", err))
		default:
		}
		resp, err := hc.Get("http://" + addr + readyPath)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", readyPath, resp.Status)
		}
		return nil
	}); err != nil {
		cancel()
		return "", nil, fmt.Errorf("serving on %s: %v", addr, err)
	}
	return addr, stop, nil
}

// testServer is the address of the server RunTests started.
var testServer string

// RunTests, called in TestMain, starts a Triple server with the services
// register adds (Serve), runs the tests of m, which reach it with Client,
// stops the server and exits. If the server does not start, it exits at
// once, saying why.
func RunTests(m *testing.M, register func(*server.Server) error) {
	addr, stop, err := Serve(register)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the Triple server:", err)
		os.Exit(1)
	}
	testServer = addr
	code := m.Run()
	stop()
	os.Exit(code)
}

// Client returns a client, with opts, of the server RunTests started.
func Client(t testing.TB, opts ...client.ClientOption) *client.Client {
	t.Helper()
	cli, err := client.NewClient(append([]client.ClientOption{client.WithClientURL("tri://" + testServer)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}
