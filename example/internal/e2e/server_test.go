package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"
	"github.com/dubbogo/gost/log/logger"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/loopback"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// addr is the loopback address of the Triple server that TestMain starts
// for every test of the package: a process can export a service only once.
var addr string

// attempts counts, by request id, the attempts the server has seen.
var attempts = newCounter()

func TestMain(m *testing.M) {
	// The failover cluster logs every failed call; the tests fail on
	// purpose thousands of times.
	logger.SetLoggerLevel("fatal")
	stop, err := serve()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the Triple server:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// serve starts a Triple server on a free loopback port with every service
// of e2e/v1.
func serve() (stop func(), err error) {
	addr, stop, err = loopback.Serve(func(srv *server.Server) error {
		return errors.Join(
			e2ev1.RegisterLayerServiceHandler(srv, &LayerServer{}),
			e2ev1.RegisterPlainServiceHandler(srv, &PlainServer{}),
			e2ev1.RegisterGuardedServiceHandler(srv, &GuardedServer{}),
			e2ev1.RegisterFileDefaultServiceHandler(srv, &FileDefaultServer{}),
			e2ev1.RegisterTimeoutServiceHandler(srv, &TimeoutServer{}),
			e2ev1.RegisterServiceTimeoutServiceHandler(srv, &ServiceTimeoutServer{}),
			e2ev1.RegisterNoTimeoutServiceHandler(srv, &NoTimeoutServer{}),
		)
	})
	return stop, err
}

// counter counts attempts by request id.
type counter struct {
	mu   sync.Mutex
	seen map[string]uint32
}

func newCounter() *counter { return &counter{seen: make(map[string]uint32)} }

func (c *counter) add(id string) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[id]++
	return c.seen[id]
}

func (c *counter) get(id string) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[id]
}

// The handlers of the e2e/v1 services. dubbo-go registers a handler under
// the name of its type, and only if the type is exported, so each service
// has an exported type of its own.
type (
	LayerServer       struct{ unaryServer }
	PlainServer       struct{ unaryServer }
	GuardedServer     struct{ unaryServer }
	FileDefaultServer struct{ unaryServer }
)

// unaryServer serves every unary method of e2e/v1. A call fails its first
// req.Fail attempts with CodeUnavailable, which dubbo-go retries, or every
// attempt with a plain error when req.Business is set, which dubbo-go
// reports as a business error and never retries.
type unaryServer struct{}

func (unaryServer) serve(req *e2ev1.Request) (*e2ev1.Response, error) {
	n := attempts.add(req.Id)
	if req.Business {
		return nil, errors.New("business failure")
	}
	if n <= req.Fail {
		return nil, triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("attempt %d of %s fails", n, req.Id))
	}
	return &e2ev1.Response{Id: req.Id, Attempts: n}, nil
}

func (s unaryServer) Declared(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return s.serve(req)
}

func (s unaryServer) Undeclared(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return s.serve(req)
}

func (s unaryServer) Never(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return s.serve(req)
}

func (s unaryServer) Read(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return s.serve(req)
}

func (s unaryServer) Write(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return s.serve(req)
}

func (s unaryServer) Inherit(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return s.serve(req)
}

// Bidi answers every request with its id, counting the requests.
func (*LayerServer) Bidi(_ context.Context, stream e2ev1.LayerService_BidiServer) error {
	for n := uint32(1); ; n++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(&e2ev1.Response{Id: req.Id, Attempts: n}); err != nil {
			return err
		}
	}
}

// Upload answers with the number of requests it received.
func (*LayerServer) Upload(_ context.Context, stream e2ev1.LayerService_UploadServer) (*e2ev1.Response, error) {
	var n uint32
	var id string
	for stream.Recv() {
		n++
		id = stream.Msg().Id
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	return &e2ev1.Response{Id: id, Attempts: n}, nil
}

// Download sends req.Fail responses, numbered from 1.
func (*LayerServer) Download(_ context.Context, req *e2ev1.Request, stream e2ev1.LayerService_DownloadServer) error {
	for n := uint32(1); n <= req.Fail; n++ {
		if err := stream.Send(&e2ev1.Response{Id: req.Id, Attempts: n}); err != nil {
			return err
		}
	}
	return nil
}

// newClient returns a client of the test server.
func newClient(t *testing.T, opts ...client.ClientOption) *client.Client {
	t.Helper()
	cli, err := client.NewClient(append([]client.ClientOption{client.WithClientURL("tri://" + addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

var ids struct {
	mu sync.Mutex
	n  int
}

// newID returns a request id no other call uses.
func newID(t testing.TB) string {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.n++
	return fmt.Sprintf("%s#%d", t.Name(), ids.n)
}
