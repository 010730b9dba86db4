// Package greetserver implements the GreetService of dubbo-go's retry
// sample.
package greetserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

// Failures is how many attempts of each GreetRetry call fail before one
// succeeds.
const Failures = 3

// PlainErrorPrefix starts the name of a GreetRetry request that fails with
// a plain error, as the sample's server did, to show that dubbo-go never
// retries one.
const PlainErrorPrefix = "plain-error"

// GreetTripleServer serves greet.GreetService. It counts the attempts of
// each call by the request's name, so concurrent calls with different names
// do not disturb each other.
type GreetTripleServer struct {
	// OnAttempt, if set, is told of every attempt of GreetRetry.
	OnAttempt func(name string, attempt int, err error)

	mu       sync.Mutex
	attempts map[string]int
}

func (s *GreetTripleServer) Greet(_ context.Context, req *greet.GreetRequest) (*greet.GreetResponse, error) {
	return &greet.GreetResponse{Greeting: "hello " + req.Name}, nil
}

// GreetRetry fails the first Failures attempts of each call, then answers.
func (s *GreetTripleServer) GreetRetry(_ context.Context, req *greet.GreetRequest) (*greet.GreetResponse, error) {
	n := s.attempt(req.Name)
	var err error
	switch {
	case strings.HasPrefix(req.Name, PlainErrorPrefix):
		// The sample returned errors.New("retry") here. dubbo-go v3.3
		// delivers a handler's plain error to the client as a business
		// error (CodeBizError), which the failover cluster never retries:
		// the sample's retries never happened.
		err = errors.New("retry")
	case n <= Failures:
		// A Triple error with a code that is not CodeBizError is one the
		// client's failover cluster retries.
		err = triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("attempt %d of %d fails", n, Failures))
	}
	if s.OnAttempt != nil {
		s.OnAttempt(req.Name, n, err)
	}
	if err != nil {
		return nil, err
	}
	return &greet.GreetResponse{Greeting: fmt.Sprintf("hello %s, on attempt %d", req.Name, n)}, nil
}

// Attempts returns how many attempts of GreetRetry the server has seen for
// name.
func (s *GreetTripleServer) Attempts(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[name]
}

func (s *GreetTripleServer) attempt(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.attempts == nil {
		s.attempts = make(map[string]int)
	}
	s.attempts[name]++
	return s.attempts[name]
}
