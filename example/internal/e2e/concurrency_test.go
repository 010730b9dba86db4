package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// A layerCase is one method of one service, created with the layers of
// docs/design.md, "Precedence", that it names, and the retries that make
// effective.
type layerCase struct {
	name    string
	method  unary
	opts    []client.CallOption
	retries uint32
}

// layerCases creates, one after the other, services with every layer of
// docs/design.md, "Precedence", and returns a method of each with its
// effective retries.
//
// The services are created up front, not by the goroutines that call them:
// creating services concurrently from one client races inside dubbo-go
// itself, which generated code cannot prevent. In Client.dial,
// setInterfaceName writes the client's shared reference config before any
// option runs, and defaults.Set then fills in the other configs the client
// shares (application, consumer, ...). Calls on services already created
// are what must be safe, and what the tests below make concurrently.
func layerCases(t *testing.T) []layerCase {
	t.Helper()
	cli := testbed.Client(t)
	layer := try(e2ev1.NewLayerService(cli)).must(t)
	guarded := try(e2ev1.NewGuardedService(cli)).must(t)
	file := try(e2ev1.NewFileDefaultService(cli)).must(t)
	plain := try(e2ev1.NewPlainService(cli)).must(t)
	service := try(e2ev1.NewLayerService(cli, client.WithRetries(1))).must(t)
	method := try(e2ev1.NewLayerService(cli, client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "5"}))).must(t)
	both := try(e2ev1.NewLayerService(cli, client.WithRetries(4), client.WithMethod(&global.MethodConfig{Name: "Never", Retries: "2"}))).must(t)
	retries5 := testbed.Client(t, client.WithClientRetries(5))
	clientWide := try(e2ev1.NewLayerService(retries5)).must(t)
	clientGuarded := try(e2ev1.NewGuardedService(retries5)).must(t)
	call := func(n int) []client.CallOption { return []client.CallOption{client.WithCallRetries(n)} }

	return []layerCase{
		// Layer 2: the .proto, over dubbo-go's default of 2.
		{"proto: method option 3", layer.Declared, nil, 3},
		{"proto: method option 0", layer.Never, nil, 0},
		{"proto: none, dubbo-go's 2", layer.Undeclared, nil, 2},
		{"proto: service option, idempotent", guarded.Read, nil, 2},
		{"proto: service option, not idempotent", guarded.Write, nil, 0},
		{"proto: file option", file.Inherit, nil, 1},
		{"proto: none, beside a service with defaults", plain.Declared, nil, 2},
		// Layer 1 under layer 2.
		{"client 5: undeclared", clientWide.Undeclared, nil, 5},
		{"client 5: method option 3", clientWide.Declared, nil, 3},
		{"client 5: method option 0", clientWide.Never, nil, 0},
		{"client 5: not idempotent", clientGuarded.Write, nil, 0},
		// Layer 3.
		{"WithRetries 1: method option 3", service.Declared, nil, 1},
		{"WithRetries 1: method option 0", service.Never, nil, 1},
		{"WithMethod 5", method.Declared, nil, 5},
		{"WithMethod on another method", method.Never, nil, 0},
		{"WithRetries 4, WithMethod 2", both.Never, nil, 2},
		{"WithRetries 4, other method", both.Declared, nil, 4},
		// Layer 4 over everything.
		{"call 0 over the .proto", layer.Declared, call(0), 0},
		{"call 4 over the .proto's 0", layer.Never, call(4), 4},
		{"call 1 over the client's", clientWide.Undeclared, call(1), 1},
		{"call 3 over WithMethod", method.Declared, call(3), 3},
		{"call 0 over WithRetries", service.Undeclared, call(0), 0},
	}
}

// TestConcurrentCallsSeeTheirLayers makes 2,000 calls from 32 goroutines
// over services created with every layer, each call failing every attempt,
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
		c    layerCase
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
				_, err := c.method(ctx, &e2ev1.Request{Id: id, Fail: 1000}, c.opts...)
				results[i] = outcome{c, id, triple_protocol.CodeOf(err)}
			}
		}()
	}
	wg.Wait()

	var attemptsSeen, attemptsWant uint64
	wrong := 0
	for _, r := range results {
		want := r.c.retries + 1
		got := attempts.Attempts(r.id)
		attemptsSeen += uint64(got)
		attemptsWant += uint64(want)
		if got == want && r.code == triple_protocol.CodeUnavailable {
			continue
		}
		if wrong++; wrong <= 10 {
			t.Errorf("%s (%s): %d attempts, failed with %v; want %d attempts, %v",
				r.id, r.c.name, got, r.code, want, triple_protocol.CodeUnavailable)
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d calls saw the wrong attempts", wrong, calls)
	}
	t.Logf("%d calls from %d goroutines over %d layer cases: %d attempts, want %d", calls, goroutines, len(cases), attemptsSeen, attemptsWant)
}
