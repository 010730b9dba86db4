package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/precedence"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// layerCases creates, one after the other, the services of every row of
// precedence.Retries, and returns their calls.
//
// The services are created up front, not by the goroutines that call them:
// creating services concurrently from one client races inside dubbo-go
// itself, which generated code cannot prevent. In Client.dial,
// setInterfaceName writes the client's shared reference config before any
// option runs, and defaults.Set then fills in the other configs the client
// shares (application, consumer, ...). Calls on services already created
// are what must be safe, and what the tests below make concurrently.
func layerCases(t *testing.T) []precedence.Bound {
	t.Helper()
	var cases []precedence.Bound
	for _, s := range precedence.Retries {
		cases = append(cases, bind(t, s)...)
	}
	return cases
}

// TestConcurrentCallsSeeTheirLayers makes 2,000 calls from 32 goroutines
// over the calls of every row of the precedence table, each call failing
// every attempt,
// and checks that the server saw exactly retries + 1 attempts of each.
// Run with -race, it also checks that the generated code adds no race to
// dubbo-go's call path.
func TestConcurrentCallsSeeTheirLayers(t *testing.T) {
	const (
		goroutines = 32
		calls      = 2000
	)
	cases := layerCases(t)
	// A bound, not a measurement: a call that hangs fails the test
	// instead of the test run.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	type outcome struct {
		c    precedence.Bound
		id   string
		code triple_protocol.Code
	}
	results := make([]outcome, calls)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < calls; i += goroutines {
				c := cases[i%len(cases)]
				id := newID(t)
				_, err := c.Do(ctx, &e2ev1.Request{Id: id, Fail: 1000})
				results[i] = outcome{c, id, triple_protocol.CodeOf(err)}
			}
		}()
	}
	wg.Wait()

	var attemptsSeen, attemptsWant uint64
	wrong := 0
	for _, r := range results {
		want := r.c.Retries + 1
		got := attempts.Attempts(r.id)
		attemptsSeen += uint64(got)
		attemptsWant += uint64(want)
		if got == want && r.code == triple_protocol.CodeUnavailable {
			continue
		}
		if wrong++; wrong <= 10 {
			t.Errorf("%s (%s): %d attempts, failed with %v; want %d attempts, %v",
				r.id, r.c.Name(), got, r.code, want, triple_protocol.CodeUnavailable)
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d calls saw the wrong attempts", wrong, calls)
	}
	t.Logf("%d calls from %d goroutines over %d calls of the precedence table: %d attempts, want %d", calls, goroutines, len(cases), attemptsSeen, attemptsWant)
}
