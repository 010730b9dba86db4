// Package greetserver implements the GreetService of dubbo-go's retry
// sample.
//
// What an attempt of GreetRetry, GreetBackoff or GreetTimeout does depends
// on the request's name: by default the first Failures attempts of a name
// fail with UNAVAILABLE and the next one answers; a name that starts with
// one of the prefixes below fails in another way, or is slow.
package greetserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

// Failures is how many attempts of each call fail before one succeeds,
// unless the request's name says otherwise.
const Failures = 3

// The prefixes of request names that choose how the attempts of a call
// fail.
const (
	// PlainErrorPrefix starts the name of a request that fails with a plain
	// error, as the sample's server did, to show that dubbo-go never
	// retries one.
	PlainErrorPrefix = "plain-error"
	// InvalidArgumentPrefix starts the name of a request whose every
	// attempt fails with INVALID_ARGUMENT: a failure that a retry would
	// only repeat.
	InvalidArgumentPrefix = "invalid-argument"
	// OutagePrefix starts the name of a request whose every attempt fails
	// with UNAVAILABLE, as in an outage.
	OutagePrefix = "outage"
	// SlowFirstPrefix starts the name of a request whose first attempt
	// takes SlowAttempt, unless its context ends first, and whose next
	// attempts answer at once.
	SlowFirstPrefix = "slow-first"
)

// SlowAttempt is how long the first attempt of a SlowFirstPrefix request
// takes when nothing cuts it. It is far from both the .proto's timeout of
// GreetTimeout (300ms) and dubbo-go's default (3s), so that an attempt cut
// by the first is never mistaken for one cut by the second.
const SlowAttempt = 1500 * time.Millisecond

// An Attempt is what the server saw of one attempt.
type Attempt struct {
	Method string    // the method called
	At     time.Time // when the handler began
	Err    error     // what it returned; nil for an answer
	// Cut reports whether the attempt's context ended before the handler
	// answered: the client had given up on it.
	Cut bool
}

// GreetTripleServer serves greet.GreetService. It counts the attempts of
// each call by the request's name, so concurrent calls with different names
// do not disturb each other.
type GreetTripleServer struct {
	// Slow makes every attempt of GreetHedge take SlowAttempt: a server that
	// has fallen behind.
	Slow bool
	// OnAttempt, if set, is told of every attempt of every method but Greet.
	OnAttempt func(method, name string, attempt int, err error)

	mu       sync.Mutex
	attempts map[string][]Attempt // by the request's name
	running  map[string]int       // the attempts of a name not yet ended
}

// Greet answers at once.
func (s *GreetTripleServer) Greet(_ context.Context, req *greet.GreetRequest) (*greet.GreetResponse, error) {
	return &greet.GreetResponse{Greeting: "hello " + req.Name}, nil
}

// GreetRetry fails the first Failures attempts of each call, then answers,
// unless the request's name says otherwise.
func (s *GreetTripleServer) GreetRetry(ctx context.Context, req *greet.GreetRequest) (*greet.GreetResponse, error) {
	return s.serve(ctx, "GreetRetry", req)
}

// GreetBackoff does what GreetRetry does.
func (s *GreetTripleServer) GreetBackoff(ctx context.Context, req *greet.GreetRequest) (*greet.GreetResponse, error) {
	return s.serve(ctx, "GreetBackoff", req)
}

// GreetHedge answers at once, unless the server is Slow: then each attempt
// takes SlowAttempt, unless its context ends first.
func (s *GreetTripleServer) GreetHedge(ctx context.Context, req *greet.GreetRequest) (*greet.GreetResponse, error) {
	n := s.begin(req.Name, "GreetHedge")
	var err error
	cut := false
	if s.Slow {
		cut, err = wait(ctx, n)
	}
	s.end(req.Name, n, err, cut)
	if s.OnAttempt != nil {
		s.OnAttempt("GreetHedge", req.Name, n, err)
	}
	if err != nil {
		return nil, err
	}
	return &greet.GreetResponse{Greeting: fmt.Sprintf("hello %s, on attempt %d", req.Name, n)}, nil
}

// wait waits SlowAttempt, unless ctx ends first: the client has given up on
// the attempt, and an answer now would read as a success to it, so it
// returns an error.
func wait(ctx context.Context, n int) (cut bool, err error) {
	select {
	case <-time.After(SlowAttempt):
		return false, nil
	case <-ctx.Done():
		return true, triple_protocol.NewError(triple_protocol.CodeDeadlineExceeded, fmt.Errorf("attempt %d: %w", n, ctx.Err()))
	}
}

// GreetTimeout does what GreetRetry does.
func (s *GreetTripleServer) GreetTimeout(ctx context.Context, req *greet.GreetRequest) (*greet.GreetResponse, error) {
	return s.serve(ctx, "GreetTimeout", req)
}

// serve makes an attempt of method, as the request's name says.
func (s *GreetTripleServer) serve(ctx context.Context, method string, req *greet.GreetRequest) (*greet.GreetResponse, error) {
	n := s.begin(req.Name, method)
	var err error
	cut := false
	switch name := req.Name; {
	case strings.HasPrefix(name, PlainErrorPrefix):
		// The sample returned errors.New("retry") here. dubbo-go v3.3
		// delivers a handler's plain error to the client as a business
		// error (CodeBizError), which the failover cluster never retries:
		// the sample's retries never happened.
		err = errors.New("retry")
	case strings.HasPrefix(name, InvalidArgumentPrefix):
		err = triple_protocol.NewError(triple_protocol.CodeInvalidArgument, fmt.Errorf("attempt %d: %q is not a name", n, name))
	case strings.HasPrefix(name, OutagePrefix):
		err = triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("attempt %d: down for maintenance", n))
	case strings.HasPrefix(name, SlowFirstPrefix):
		if n == 1 {
			cut, err = wait(ctx, n)
		}
	case n <= Failures:
		// A Triple error with a code that is not CodeBizError is one the
		// client's failover cluster retries.
		err = triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("attempt %d of %d fails", n, Failures))
	}
	s.end(req.Name, n, err, cut)
	if s.OnAttempt != nil {
		s.OnAttempt(method, req.Name, n, err)
	}
	if err != nil {
		return nil, err
	}
	return &greet.GreetResponse{Greeting: fmt.Sprintf("hello %s, on attempt %d", req.Name, n)}, nil
}

// Attempts returns how many attempts the server has seen for name, of any
// method but Greet, those still running included.
func (s *GreetTripleServer) Attempts(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.attempts[name])
}

// Log returns the attempts the server has seen for name, in the order they
// began, once none is running: a client that has given up on an attempt
// may have returned before the handler of the attempt did. It waits at
// most until ctx ends.
func (s *GreetTripleServer) Log(ctx context.Context, name string) ([]Attempt, error) {
	for {
		s.mu.Lock()
		log, running := slices.Clone(s.attempts[name]), s.running[name]
		s.mu.Unlock()
		if running == 0 {
			return log, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d attempts for %q still running: %w", running, name, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// begin counts a new attempt for name, running, and returns its number.
func (s *GreetTripleServer) begin(name, method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.attempts == nil {
		s.attempts = make(map[string][]Attempt)
		s.running = make(map[string]int)
	}
	s.attempts[name] = append(s.attempts[name], Attempt{Method: method, At: time.Now()})
	s.running[name]++
	return len(s.attempts[name])
}

// end records how attempt n of name ended.
func (s *GreetTripleServer) end(name string, n int, err error, cut bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &s.attempts[name][n-1]
	a.Err, a.Cut = err, cut
	s.running[name]--
}
