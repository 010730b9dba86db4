// Package policy tests the runtime module dubboretry end to end: retry_on,
// backoff and budget as the .proto declares them (testdata/proto/e2e/v1/
// policy.proto), which the generated NewXxxService hands to dubboretry
// (layer 2), and as callers override them (dubboretry.With…, layer 3), on
// real Triple servers that count the attempts they see. Services whose
// .proto declares no policy (LayerService, PlainService) show that they
// keep dubbo-go's failover, and serve as hosts for dubboretry.Defaults
// given by hand, where the API itself is tested.
//
// One server runs in the test process. Tests that need several providers
// of one service re-execute the test binary as providers (a process can
// export a service only once): see providers_test.go.
package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"
	"github.com/dubbogo/gost/log/logger"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/loopback"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// addr is the loopback address of the test process's own server.
var addr string

// seen records, by request id, when the test process's server saw each
// attempt.
var seen = newLog()

func TestMain(m *testing.M) {
	// dubbo-go's clusters, ours included, log every failed call; the tests
	// fail calls on purpose by the thousand.
	logger.SetLoggerLevel("fatal")
	if mode := os.Getenv(providerEnv); mode != "" {
		if err := provide(mode); err != nil {
			fmt.Fprintln(os.Stderr, "provider:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	var stop func()
	var err error
	addr, stop, err = loopback.Serve(func(srv *server.Server) error {
		return register(srv, byRequest)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the Triple server:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// A behaviour decides how attempt n of the call req fails, or nil for a
// success.
type behaviour func(req *e2ev1.Request, n uint32) error

// byRequest is the behaviour of the test process's server: a call fails
// its first req.Fail attempts, with the code its id names (see id), or
// with a plain error, which dubbo-go reports as a business error, when
// req.Business is set.
func byRequest(req *e2ev1.Request, n uint32) error {
	if req.Business {
		return errors.New("business failure")
	}
	if n <= req.Fail {
		return triple_protocol.NewError(codeOf(req.Id), fmt.Errorf("attempt %d of %s fails", n, req.Id))
	}
	return nil
}

// id returns a request id no other call of the process uses, that asks
// the test process's server to fail with code.
func id(t testing.TB, code triple_protocol.Code) string {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.n++
	return fmt.Sprintf("%s#%d;code=%s", t.Name(), ids.n, code)
}

var ids struct {
	mu sync.Mutex
	n  int
}

// codeOf returns the code an id names, UNAVAILABLE if none.
func codeOf(id string) triple_protocol.Code {
	_, name, ok := strings.Cut(id, ";code=")
	if !ok {
		return triple_protocol.CodeUnavailable
	}
	var c triple_protocol.Code
	if err := c.UnmarshalText([]byte(name)); err != nil {
		panic(fmt.Sprintf("request id %q: %v", id, err))
	}
	return c
}

// log records when each attempt of each call arrived.
type log struct {
	mu    sync.Mutex
	times map[string][]time.Time
}

func newLog() *log { return &log{times: make(map[string][]time.Time)} }

// add records an attempt of id, and returns its number.
func (l *log) add(id string) uint32 {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.times[id] = append(l.times[id], now)
	return uint32(len(l.times[id]))
}

func (l *log) attempts(id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.times[id])
}

// gaps returns the time between each attempt of id and the next.
func (l *log) gaps(id string) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.times[id]
	var out []time.Duration
	for i := 1; i < len(ts); i++ {
		out = append(out, ts[i].Sub(ts[i-1]))
	}
	return out
}

// register adds the services of e2e/v1 that the tests call to srv, each
// attempt counted in seen and answered by b.
func register(srv *server.Server, b behaviour) error {
	h := handler{b}
	return errors.Join(
		e2ev1.RegisterLayerServiceHandler(srv, &LayerServer{h}),
		e2ev1.RegisterPlainServiceHandler(srv, &PlainServer{h}),
		e2ev1.RegisterRetryOnServiceHandler(srv, &RetryOnServer{h}),
		e2ev1.RegisterBackoffServiceHandler(srv, &BackoffServer{h}),
		e2ev1.RegisterBudgetServiceHandler(srv, &BudgetServer{h}),
		e2ev1.RegisterSpareBudgetServiceHandler(srv, &SpareBudgetServer{h}),
		e2ev1.RegisterLooseBudgetServiceHandler(srv, &LooseBudgetServer{h}),
		e2ev1.RegisterFullPolicyServiceHandler(srv, &FullPolicyServer{h}),
	)
}

// The handlers. dubbo-go registers a handler under the name of its type,
// and only if the type is exported: one exported type per service.
type (
	LayerServer       struct{ handler }
	PlainServer       struct{ handler }
	RetryOnServer     struct{ handler }
	BackoffServer     struct{ handler }
	BudgetServer      struct{ handler }
	SpareBudgetServer struct{ handler }
	LooseBudgetServer struct{ handler }
	FullPolicyServer  struct{ handler }
)

type handler struct{ b behaviour }

func (h handler) serve(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	n := seen.add(req.Id)
	if err := h.b(req, n); err != nil {
		return nil, err
	}
	return &e2ev1.Response{Id: req.Id, Attempts: n}, nil
}

func (h handler) Declared(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return h.serve(ctx, req)
}

func (h handler) Undeclared(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return h.serve(ctx, req)
}

func (h handler) Never(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return h.serve(ctx, req)
}

func (h BackoffServer) Short(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return h.serve(ctx, req)
}

func (h BackoffServer) Flat(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return h.serve(ctx, req)
}

func (h BackoffServer) Steep(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return h.serve(ctx, req)
}

var errStreams = triple_protocol.NewError(triple_protocol.CodeUnimplemented, errors.New("the policy tests call unary methods only"))

func (*LayerServer) Bidi(context.Context, e2ev1.LayerService_BidiServer) error { return errStreams }

func (*LayerServer) Upload(context.Context, e2ev1.LayerService_UploadServer) (*e2ev1.Response, error) {
	return nil, errStreams
}

func (*LayerServer) Download(context.Context, *e2ev1.Request, e2ev1.LayerService_DownloadServer) error {
	return errStreams
}

// newClient returns a client of the test process's server.
func newClient(t testing.TB, opts ...client.ClientOption) *client.Client {
	t.Helper()
	cli, err := client.NewClient(append([]client.ClientOption{client.WithClientURL("tri://" + addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// try(f()).must(t) is the result of f, or the end of the test if f fails.
func try[T any](v T, err error) result[T] { return result[T]{v, err} }

type result[T any] struct {
	v   T
	err error
}

func (r result[T]) must(t testing.TB) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// unary is a unary method of a generated client.
type unary func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)
