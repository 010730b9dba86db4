package greetserver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

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
