package testbed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
	publishv1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/publish/v1"
)

// The handlers serve the services of testdata/proto/e2e/v1 and
// publish/v1, in the test process or in a provider process: every attempt
// is logged by request id (log.go), and a Behaviour decides which attempts
// of a unary call fail; the timeout services' methods sleep through the
// first attempts that the request says are slow; a script in the request's
// id (script.go) beats both.
//
// dubbo-go registers a handler under the name of its type, and only if the
// type is exported, so each service has an exported type of its own here
// (LayerServer, TimeoutServer...): every method of a kind is served alike.
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

// A Handler is how the handlers of a server serve: they log each attempt in
// Log, and Behaviour decides whether an attempt of a unary call fails. The
// zero Handler logs nothing, and answers every attempt at once as the first
// (for benchmarks).
type Handler struct {
	Log       *Log
	Behaviour Behaviour
}

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

// Mode returns the behaviour of a provider's mode:
//
//	""               ByRequest
//	ok               every attempt succeeds
//	fail             every attempt fails with UNAVAILABLE
//	flaky:SEED:PCT   an attempt fails with UNAVAILABLE with probability
//	                 PCT/100, drawn from rand.New(rand.NewPCG(SEED, SEED))
func Mode(mode string) (Behaviour, error) {
	unavailable := func(req *e2ev1.Request, n uint32) error {
		return triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("attempt %d of %s fails here", n, req.Id))
	}
	switch {
	case mode == "":
		return ByRequest, nil
	case mode == "ok":
		return func(*e2ev1.Request, uint32) error { return nil }, nil
	case mode == "fail":
		return unavailable, nil
	case strings.HasPrefix(mode, "flaky:"):
		var seed uint64
		var pct float64
		if _, err := fmt.Sscanf(mode, "flaky:%d:%g", &seed, &pct); err != nil {
			return nil, fmt.Errorf("mode %q: %v", mode, err)
		}
		var mu sync.Mutex
		r := rand.New(rand.NewPCG(seed, seed))
		return func(req *e2ev1.Request, n uint32) error {
			mu.Lock()
			fail := r.Float64() < pct/100
			mu.Unlock()
			if fail {
				return unavailable(req, n)
			}
			return nil
		}, nil
	}
	return nil, fmt.Errorf("unknown mode %q", mode)
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
	name, _, _ = strings.Cut(name, ";") // a script may follow
	var c triple_protocol.Code
	if err := c.UnmarshalText([]byte(name)); err != nil {
		panic(fmt.Sprintf("request id %q: %v", id, err))
	}
	return c
}

// Unary serves every unary method of e2e/v1: it logs each attempt in Log,
// and Behaviour, if set, decides whether it fails; one that succeeds
// answers with the request's id and the attempts seen.
type Unary Handler

func (u Unary) serve(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	n := u.Log.Add(req.Id)
	if s, ok := scriptOf(req.Id); ok {
		return s.play(ctx, u.Log, req)
	}
	if u.Behaviour != nil {
		if err := u.Behaviour(req, n); err != nil {
			return nil, err
		}
	}
	return &e2ev1.Response{Id: req.Id, Attempts: n}, nil
}
func (u Unary) Declared(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(ctx, req)
}

func (u Unary) Undeclared(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(ctx, req)
}

func (u Unary) Never(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(ctx, req)
}

func (u Unary) Read(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(ctx, req)
}

func (u Unary) Write(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(ctx, req)
}

func (u Unary) Inherit(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(ctx, req)
}

func (u Unary) Short(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(ctx, req)
}

func (u Unary) Flat(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(ctx, req)
}

func (u Unary) Steep(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	return u.serve(ctx, req)
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

// Download sends req.Fail responses, numbered from 1. It logs the call as
// an attempt of req.Id.
func (s *LayerServer) Download(_ context.Context, req *e2ev1.Request, stream e2ev1.LayerService_DownloadServer) error {
	s.Log.Add(req.Id)
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

// PublishServer serves publish.v1.PublishService, logging every attempt in
// Log. A call fails its first req.Fail attempts with UNAVAILABLE, which
// dubbo-go retries; a call whose id ends with PublishSlowMark makes them
// slow instead (PublishSleep, unless the attempt's context ends first) and
// then answers. It logs the attempts under the id without the mark.
type PublishServer struct{ Log *Log }

// PublishSlowMark ends the id of a call of PublishService whose failing
// attempts are slow instead.
const PublishSlowMark = "~slow"

// PublishSleep is how long a slow attempt of PublishService takes, unless
// its context ends first.
const PublishSleep = 1500 * time.Millisecond

func (s *PublishServer) serve(ctx context.Context, req *publishv1.Request) (*publishv1.Response, error) {
	id, slow := strings.CutSuffix(req.Id, PublishSlowMark)
	n := s.Log.Add(id)
	if n <= req.Fail {
		if !slow {
			return nil, triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("attempt %d of %s fails", n, id))
		}
		if err := Sleep(ctx, PublishSleep); err != nil {
			return nil, err
		}
	}
	return &publishv1.Response{Id: id, Attempts: n}, nil
}

func (s *PublishServer) Declared(ctx context.Context, req *publishv1.Request) (*publishv1.Response, error) {
	return s.serve(ctx, req)
}

func (s *PublishServer) Never(ctx context.Context, req *publishv1.Request) (*publishv1.Response, error) {
	return s.serve(ctx, req)
}

func (s *PublishServer) Undeclared(ctx context.Context, req *publishv1.Request) (*publishv1.Response, error) {
	return s.serve(ctx, req)
}

func (s *PublishServer) Limited(ctx context.Context, req *publishv1.Request) (*publishv1.Response, error) {
	return s.serve(ctx, req)
}
