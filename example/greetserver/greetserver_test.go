package greetserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

// Concurrent calls with different names each fail Failures times, then
// succeed; run with -race, the counter is safe.
func TestGreetRetryConcurrent(t *testing.T) {
	s := &GreetTripleServer{}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := &greet.GreetRequest{Name: fmt.Sprint("caller ", i)}
			for attempt := 1; attempt <= Failures+1; attempt++ {
				resp, err := s.GreetRetry(context.Background(), req)
				switch {
				case attempt <= Failures && triple_protocol.CodeOf(err) != triple_protocol.CodeUnavailable:
					t.Errorf("%s, attempt %d: %v, want CodeUnavailable", req.Name, attempt, err)
				case attempt > Failures && err != nil:
					t.Errorf("%s, attempt %d: %v, want success", req.Name, attempt, err)
				case attempt > Failures && resp.Greeting == "":
					t.Errorf("%s: empty greeting", req.Name)
				}
			}
		}()
	}
	wg.Wait()
	for i := range 16 {
		if got := s.Attempts(fmt.Sprint("caller ", i)); got != Failures+1 {
			t.Errorf("caller %d: %d attempts counted, want %d", i, got, Failures+1)
		}
	}
}

// A plain error is what the sample's server returned, and what dubbo-go
// delivers as a business error.
func TestPlainError(t *testing.T) {
	s := &GreetTripleServer{}
	_, err := s.GreetRetry(context.Background(), &greet.GreetRequest{Name: PlainErrorPrefix})
	var tripleErr *triple_protocol.Error
	if err == nil || errors.As(err, &tripleErr) {
		t.Errorf("GreetRetry(%q) = %v, want a plain error", PlainErrorPrefix, err)
	}
}

// Requests whose name asks for it fail every attempt with their code.
func TestFailEveryAttempt(t *testing.T) {
	s := &GreetTripleServer{}
	for _, tc := range []struct {
		name string
		code triple_protocol.Code
	}{
		{InvalidArgumentPrefix + " 1", triple_protocol.CodeInvalidArgument},
		{OutagePrefix + " 1", triple_protocol.CodeUnavailable},
	} {
		for attempt := 1; attempt <= 2*Failures; attempt++ {
			_, err := s.GreetRetry(context.Background(), &greet.GreetRequest{Name: tc.name})
			if code := triple_protocol.CodeOf(err); err == nil || code != tc.code {
				t.Errorf("%s, attempt %d: %v, want %v", tc.name, attempt, err, tc.code)
			}
		}
		if got := s.Attempts(tc.name); got != 2*Failures {
			t.Errorf("%s: %d attempts counted, want %d", tc.name, got, 2*Failures)
		}
	}
}

// The first attempt of a slow request lasts until its context ends, which
// the server records as a cut attempt, and fails; the next one answers.
// Log waits for the attempts that are still running.
func TestSlowFirst(t *testing.T) {
	s := &GreetTripleServer{}
	req := &greet.GreetRequest{Name: SlowFirstPrefix + " 1"}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := s.GreetTimeout(ctx, req)
		first <- err
	}()
	for s.Attempts(req.Name) == 0 {
		time.Sleep(time.Millisecond)
	}
	logged := make(chan []Attempt, 1)
	go func() {
		log, err := s.Log(context.Background(), req.Name)
		if err != nil {
			t.Error(err)
		}
		logged <- log
	}()
	cancel()
	if err := <-first; triple_protocol.CodeOf(err) != triple_protocol.CodeDeadlineExceeded {
		t.Errorf("the first attempt: %v, want DEADLINE_EXCEEDED", err)
	}
	if log := <-logged; len(log) != 1 || !log[0].Cut || log[0].Method != "GreetTimeout" {
		t.Errorf("the log of the first attempt: %+v, want one cut attempt of GreetTimeout", log)
	}
	if _, err := s.GreetTimeout(context.Background(), req); err != nil {
		t.Errorf("the second attempt: %v, want an answer", err)
	}
	log, err := s.Log(context.Background(), req.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[1].Cut || log[1].Err != nil || log[1].At.Before(log[0].At) {
		t.Errorf("the log: %+v, want the cut attempt, then an answer", log)
	}
}
