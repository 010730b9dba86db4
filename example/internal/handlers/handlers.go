// Package handlers serves the services of testdata/proto/e2e/v1 for the
// example's tests, in the test process or in a provider process: every
// attempt is logged by request id (log.go), and a Behaviour decides which
// attempts of a unary call fail; the timeout services' methods sleep
// through the first attempts that the request says are slow. A request
// whose id carries a script (Script) has every attempt of the call, across
// all providers, play the step of its number: fail, answer, sleep, or wait
// until its context ends, recording that it did.
//
// dubbo-go registers a handler under the name of its type, and only if the
// type is exported, so each service has an exported type of its own here
// (LayerServer, TimeoutServer...): every method of a kind is served alike.
package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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
	name, _, _ = strings.Cut(name, ";") // a script may follow
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

func (u Unary) serve(ctx context.Context, req *e2ev1.Request) (*e2ev1.Response, error) {
	n := u.Log.Add(req.Id)
	if s, ok := scriptOf(req.Id); ok {
		return s.play(ctx, u.Log, req)
	}
	if err := u.Behaviour(req, n); err != nil {
		return nil, err
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

// A Step is what one attempt of a scripted call does (Script).
type Step string

const (
	// Answer answers at once.
	Answer Step = "answer"
	// Hang waits until the attempt's context ends (the client cancels it,
	// or its deadline passes), records that it did (EndedKey), and fails.
	Hang Step = "hang"
	// FailBusiness fails at once with a plain error, which the client sees
	// as a business error.
	FailBusiness Step = "business"
)

// SleepThenAnswer sleeps for d, then answers; if the attempt's context
// ends first, it records that it did (EndedKey), and fails.
func SleepThenAnswer(d time.Duration) Step {
	return Step("sleep:" + d.String())
}

// FailWith fails at once with code.
func FailWith(code triple_protocol.Code) Step {
	return Step("fail:" + code.String())
}

// scriptMark separates a request id from its script.
const scriptMark = ";script="

// Script returns id with a script: attempt n of the call, counted over
// every provider that serves it in the order they arrive, plays steps[n-1]
// (Answer beyond the last). The providers count through files in dir,
// which they share: the test processes and the providers they start run
// on one machine. A scripted attempt answers with its number over all
// providers as Response.Attempts, and each provider logs, besides the
// call's id, AttemptKey(id, n) for each attempt n it served and
// EndedKey(id, n, why) for each whose context ended while it waited.
// The script wins over the provider's Behaviour.
func Script(id, dir string, steps ...Step) string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = string(s)
	}
	return id + scriptMark + strings.Join(names, ",") + "@" + dir
}

// AttemptKey is the key under which a provider logs that it served
// attempt n of the scripted call id.
func AttemptKey(id string, n uint32) string {
	return id + "/attempt=" + strconv.FormatUint(uint64(n), 10)
}

// EndedKey is the key under which a provider logs that the context of
// attempt n of the scripted call id ended while the attempt waited: why is
// "canceled" or "deadline".
func EndedKey(id string, n uint32, why string) string {
	return AttemptKey(id, n) + "/ended=" + why
}

// Why a scripted attempt's context ended, as EndedKey records it.
const (
	EndedCanceled = "canceled"
	EndedDeadline = "deadline"
)

type script struct {
	steps []Step
	dir   string
}

// scriptOf returns the script an id carries.
func scriptOf(id string) (script, bool) {
	_, text, ok := strings.Cut(id, scriptMark)
	if !ok {
		return script{}, false
	}
	steps, dir, ok := strings.Cut(text, "@")
	if !ok || dir == "" {
		panic(fmt.Sprintf("request id %q: a script without a directory", id))
	}
	var s script
	s.dir = dir
	for name := range strings.SplitSeq(steps, ",") {
		if name != "" {
			s.steps = append(s.steps, Step(name))
		}
	}
	return s, true
}

// claim returns the number of this attempt of the call id over every
// provider: the first n for which this process creates the file of n.
func (s script) claim(id string) (uint32, error) {
	sum := sha256.Sum256([]byte(id))
	base := filepath.Join(s.dir, hex.EncodeToString(sum[:8]))
	for n := uint32(1); ; n++ {
		f, err := os.OpenFile(base+"."+strconv.FormatUint(uint64(n), 10), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			return n, f.Close()
		}
		if !errors.Is(err, fs.ErrExist) {
			return 0, err
		}
	}
}

// play plays the step of this attempt of the call req.
func (s script) play(ctx context.Context, log *Log, req *e2ev1.Request) (*e2ev1.Response, error) {
	n, err := s.claim(req.Id)
	if err != nil {
		return nil, triple_protocol.NewError(triple_protocol.CodeInternal, fmt.Errorf("numbering the attempt: %v", err))
	}
	log.Add(AttemptKey(req.Id, n))
	step := Answer
	if int(n) <= len(s.steps) {
		step = s.steps[n-1]
	}
	// wait waits for d (forever if d < 0), or until ctx ends: then it
	// records why, and returns the error the attempt fails with.
	wait := func(d time.Duration) error {
		var timer <-chan time.Time
		if d >= 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-timer:
			return nil
		case <-ctx.Done():
			why, code := EndedCanceled, triple_protocol.CodeCanceled
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				why, code = EndedDeadline, triple_protocol.CodeDeadlineExceeded
			}
			log.Add(EndedKey(req.Id, n, why))
			// A response now would read as a success to the client.
			return triple_protocol.NewError(code, fmt.Errorf("attempt %d of %s: %v", n, req.Id, ctx.Err()))
		}
	}
	kind, arg, _ := strings.Cut(string(step), ":")
	switch Step(kind) {
	case Answer:
	case Hang:
		if err := wait(-1); err != nil {
			return nil, err
		}
	case "sleep":
		d, perr := time.ParseDuration(arg)
		if perr != nil {
			panic(fmt.Sprintf("request id %q: step %q: %v", req.Id, step, perr))
		}
		if err := wait(d); err != nil {
			return nil, err
		}
	case FailBusiness:
		return nil, fmt.Errorf("attempt %d of %s: business failure", n, req.Id)
	case "fail":
		var c triple_protocol.Code
		if perr := c.UnmarshalText([]byte(arg)); perr != nil {
			panic(fmt.Sprintf("request id %q: step %q: %v", req.Id, step, perr))
		}
		return nil, triple_protocol.NewError(c, fmt.Errorf("attempt %d of %s fails", n, req.Id))
	default:
		panic(fmt.Sprintf("request id %q: unknown step %q", req.Id, step))
	}
	return &e2ev1.Response{Id: req.Id, Attempts: n}, nil
}
