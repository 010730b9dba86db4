// Package provider runs provider processes, for the tests that need several
// providers of one service: a process can export a service only once
// ("service already defined"). A provider is the test binary, run again
// (package proc) as the role "provider", which Main turns into a server of
// the services its test package registers, on a free loopback port, with
// the behaviour of its mode; it serves the attempts it has seen over HTTP.
package provider

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/handlers"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/loopback"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/proc"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// role is the proc role of a provider process.
const role = "provider"

// Main, called first in TestMain, runs this process as a provider if it
// was started as one (Start), and exits: register adds the services, each
// served by u. In the test process it returns at once.
func Main(register func(srv *server.Server, u handlers.Unary) error) {
	proc.Main(map[string]func(string) error{
		role: func(mode string) error { return serve(mode, register) },
	})
}

// Behaviour returns the behaviour of a provider's mode:
//
//	ok               every attempt succeeds
//	fail             every attempt fails with UNAVAILABLE
//	flaky:SEED:PCT   an attempt fails with UNAVAILABLE with probability
//	                 PCT/100, drawn from rand.New(rand.NewPCG(SEED, SEED))
func Behaviour(mode string) (handlers.Behaviour, error) {
	unavailable := func(req *e2ev1.Request, n uint32) error {
		return triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("attempt %d of %s fails here", n, req.Id))
	}
	switch {
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

// serve serves the services of register in mode, and the attempts it has
// seen over HTTP, until the test ends it.
func serve(mode string, register func(*server.Server, handlers.Unary) error) error {
	b, err := Behaviour(mode)
	if err != nil {
		return err
	}
	log := handlers.NewLog()
	tri, stop, err := loopback.Serve(func(srv *server.Server) error {
		return register(srv, handlers.Unary{Log: log, Behaviour: b})
	})
	if err != nil {
		return err
	}
	defer stop()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(l, log)

	proc.Say(Provider{Tri: tri, HTTP: l.Addr().String()})
	return proc.WaitEnd()
}

// A Provider is a provider process, as it says once it serves.
type Provider struct {
	Tri  string // the Triple address
	HTTP string // the address of its attempt counts
}

// Start starts one provider per mode, in parallel, and returns once they
// all serve, or ends the test. They stop when the test ends.
func Start(t testing.TB, modes ...string) []*Provider {
	t.Helper()
	out := make([]*Provider, len(modes))
	errs := make([]error, len(modes))
	var wg sync.WaitGroup
	for i, mode := range modes {
		wg.Go(func() { out[i], errs[i] = start(t, mode) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// start runs the test binary as a provider in mode.
func start(t testing.TB, mode string) (*Provider, error) {
	c, err := proc.Start[Provider](fmt.Sprintf("provider %q", mode), role, mode, proc.Options{})
	if err != nil {
		return nil, err
	}
	t.Cleanup(c.Stop)
	p, err := c.Next(30 * time.Second)
	if err != nil {
		c.Kill()
		return nil, err
	}
	return &p, nil
}

// Counts returns the attempts each of providers has seen, by request id.
func Counts(t testing.TB, providers ...*Provider) []map[string]uint32 {
	t.Helper()
	out := make([]map[string]uint32, len(providers))
	for i, p := range providers {
		var err error
		if out[i], err = handlers.ReadCounts("http://" + p.HTTP + "/attempts"); err != nil {
			t.Fatalf("provider %s: %v", p.Tri, err)
		}
	}
	return out
}

// URL returns the client URL that reaches providers directly.
func URL(providers []*Provider) string {
	urls := make([]string, len(providers))
	for i, p := range providers {
		urls[i] = "tri://" + p.Tri
	}
	return strings.Join(urls, ";")
}
