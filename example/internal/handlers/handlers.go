// Package handlers serves the services of testdata/proto/e2e/v1 for the
// example's tests, in the test process or in a provider process: every
// attempt is logged by request id (log.go), and a Behaviour decides which
// attempts of a unary call fail; the timeout services' methods sleep
// through the first attempts that the request says are slow.
//
// dubbo-go registers a handler under the name of its type, and only if the
// type is exported, so each service has an exported type of its own here
// (LayerServer, TimeoutServer...): every method of a kind is served alike.
package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// The handlers, one exported type per service.
type (
	LayerServer       struct{ Unary }
	PlainServer       struct{ Unary }
	GuardedServer     struct{ Unary }
	FaultServer       struct{ Unary }
	HedgeServer       struct{ Unary }
	FileDefaultServer struct{ Unary }
	RetryOnServer     struct{ Unary }
	BackoffServer     struct{ Unary }
	BudgetServer      struct{ Unary }
	SpareBudgetServer struct{ Unary }
	LooseBudgetServer struct{ Unary }
	FullPolicyServer  struct{ Unary }

	TimeoutServer        struct{ Slow }
	ServiceTimeoutServer struct{ Slow }
	NoTimeoutServer      struct{ Slow }
)

// A Behaviour decides how attempt n of the call req fails, or returns nil
// for a success.
type Behaviour func(req *e2ev1.Request, n uint32) error

// ByRequest is the behaviour the request asks for: a call fails its first
// req.Fail attempts, with the code its id names (see WithCode), or else
// with UNAVAILABLE, which dubbo-go retries; or every attempt with a plain
// error when req.Business is set, which dubbo-go reports as a business
// error and never retries.
func ByRequest(req *e2ev1.Request, n uint32) error {
	if req.Business {
		return errors.New("business failure")
	}
	if n <= req.Fail {
		return triple_protocol.NewError(codeOf(req.Id), fmt.Errorf("attempt %d of %s fails", n, req.Id))
	}
	return nil
}

var ids struct {
	mu sync.Mutex
	n  int
}

// NewID returns a request id, starting with name, that no other call of
// the process uses.
func NewID(name string) string {
	ids.mu.Lock()
	defer ids.mu.Unlock()
	ids.n++
	return fmt.Sprintf("%s#%d", name, ids.n)
}

// codeMark separates a request id from the code it names.
const codeMark = ";code="

// WithCode returns id naming code: ByRequest fails the call's attempts
// with code.
func WithCode(id string, code triple_protocol.Code) string {
	return id + codeMark + code.String()
}

// codeOf returns the code an id names, UNAVAILABLE if none.
func codeOf(id string) triple_protocol.Code {
	_, name, ok := strings.Cut(id, codeMark)
	if !ok {
		return triple_protocol.CodeUnavailable
	}
	var c triple_protocol.Code
	if err := c.UnmarshalText([]byte(name)); err != nil {
		panic(fmt.Sprintf("request id %q: %v", id, err))
	}
	return c
}

// Unary serves every unary method of e2e/v1: it logs each attempt in Log,
// and Behaviour decides whether it fails; one that succeeds answers with
// the request's id and the attempts seen.
type Unary struct {
	Log       *Log
	Behaviour Behaviour
}

func (u Unary) serve(req *e2ev1.Request) (*e2ev1.Response, error) {
	n := u.Log.Add(req.Id)
	if err := u.Behaviour(req, n); err != nil {
		return nil, err
	}
	return &e2ev1.Response{Id: req.Id, Attempts: n}, nil
}

func (u Unary) Declared(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(req)
}

func (u Unary) Undeclared(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(req)
}

func (u Unary) Never(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(req)
}

func (u Unary) Read(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(req)
}

func (u Unary) Write(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(req)
}

func (u Unary) Inherit(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(req)
}

func (u Unary) Short(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(req)
}

func (u Unary) Flat(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(req)
}

func (u Unary) Steep(_ context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(req)
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

// Slow serves every method of the timeout services: it logs each attempt
// in Log, and the first req.Slow attempts of a call sleep for req.SleepMs
// (see Sleep) before they answer.
type Slow struct{ Log *Log }

func (s Slow) serve(ctx context.Context, req *e2ev1.SlowRequest) (*e2ev1.SlowResponse, error) {
	n := s.Log.Add(req.Id)
	if n <= req.Slow {
		if err := Sleep(ctx, time.Duration(req.SleepMs)*time.Millisecond); err != nil {
			return nil, err
		}
	}
	return &e2ev1.SlowResponse{Id: req.Id, Attempts: n}, nil
}

// Sleep sleeps for d, or fails with CodeDeadlineExceeded when ctx ends
// first: the client's deadline travels with the attempt, and a response
// after it would read as a success.
func Sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return triple_protocol.NewError(triple_protocol.CodeDeadlineExceeded, ctx.Err())
	}
}

func (s Slow) Limited(ctx context.Context, req *e2ev1.SlowRequest) (*e2ev1.SlowResponse, error) {
	return s.serve(ctx, req)
}

func (s Slow) Unlimited(ctx context.Context, req *e2ev1.SlowRequest) (*e2ev1.SlowResponse, error) {
	return s.serve(ctx, req)
}

func (s Slow) Inherit(ctx context.Context, req *e2ev1.SlowRequest) (*e2ev1.SlowResponse, error) {
	return s.serve(ctx, req)
}

func (s Slow) Override(ctx context.Context, req *e2ev1.SlowRequest) (*e2ev1.SlowResponse, error) {
	return s.serve(ctx, req)
}
