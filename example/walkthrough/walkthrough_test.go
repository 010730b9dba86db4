package walkthrough

import (
	"context"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

func TestMain(m *testing.M) {
	ServeFastIfAsked()
	os.Exit(m.Run())
}

// TestWalkthrough runs the demo's calls on real servers: each layer must
// give the attempts and the outcome the precedence table says, and each
// part of greet.proto's policy what it promises.
func TestWalkthrough(t *testing.T) {
	handler := &greetserver.GreetTripleServer{Slow: true}
	addr, stop, err := testbed.Serve(func(srv *server.Server) error {
		return greet.RegisterGreetServiceHandler(srv, handler)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fast, stopFast, err := StartFast()
	if err != nil {
		t.Fatal(err)
	}
	defer stopFast()
	results, err := Run(ctx, Servers{Addr: addr, Srv: handler, Fast: fast})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(Steps) {
		t.Fatalf("%d results for %d steps", len(results), len(Steps))
	}
	var table strings.Builder
	if err := Print(&table, results); err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.OK() {
			t.Errorf("layer %s (%s): %d attempts, error %v; want %d to %d attempts, success %v; %s",
				r.Layer, r.SetBy, r.Attempts, r.Err, r.WantMin, r.WantMax, r.WantOK, r.Problem)
		}
	}

	// The rows of the policy, checked here on their own, not only by OK.
	find := func(what string, is func(Result) bool) Result {
		t.Helper()
		var found []Result
		for _, r := range results {
			if is(r) {
				found = append(found, r)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d rows for %s, want 1", len(found), what)
		}
		return found[0]
	}
	t.Run("retry_on", func(t *testing.T) {
		r := find("retry_on", func(r Result) bool { return strings.HasPrefix(r.name, greetserver.InvalidArgumentPrefix) })
		// GreetRetry has 3 retries, on UNAVAILABLE only.
		if code := triple_protocol.CodeOf(r.Err); r.Attempts != 1 || code != triple_protocol.CodeInvalidArgument {
			t.Errorf("INVALID_ARGUMENT: %d attempts, error %v; want 1 attempt, INVALID_ARGUMENT", r.Attempts, r.Err)
		}
	})
	t.Run("backoff", func(t *testing.T) {
		r := find("backoff", func(r Result) bool { return r.check == checkBackoff })
		if r.Attempts != 4 || r.Err != nil || len(r.Gaps) != 3 {
			t.Fatalf("%d attempts (%d gaps), error %v; want 4, success", r.Attempts, len(r.Gaps), r.Err)
		}
		// The delays WithJitterSeed draws: the n-th is the ceiling of
		// retry n (50ms x 2^(n-1), greet.proto's) times the n-th draw.
		draws := rand.New(rand.NewPCG(JitterSeed, JitterSeed))
		for i, gap := range r.Gaps {
			ceiling := 50 * time.Millisecond << i
			delay := time.Duration(draws.Float64() * float64(ceiling))
			if r.Delays[i] != delay {
				t.Errorf("delay %d: the walkthrough drew %v, want %v", i+1, r.Delays[i], delay)
			}
			// A gap adds an exchange with the server to its delay; only
			// its lower bound is certain.
			if gap < delay {
				t.Errorf("the server saw attempts %d and %d %v apart, less than the delay %v", i+1, i+2, gap, delay)
			}
		}
	})
	t.Run("timeout", func(t *testing.T) {
		r := find("timeout", func(r Result) bool { return r.check == checkTimeout })
		if r.Attempts != 2 || r.Err != nil || !r.Cut {
			t.Errorf("%d attempts, error %v, first attempt cut %v; want 2 attempts, success, the first cut", r.Attempts, r.Err, r.Cut)
		}
		if r.Second < 300*time.Millisecond {
			t.Errorf("the second attempt came %v into the call, before the first's limit of 300ms", r.Second)
		}
	})
	t.Run("hedging", func(t *testing.T) {
		r := find("hedging", func(r Result) bool { return r.check == checkHedge })
		if r.Err != nil || r.SlowCopies == 0 || r.Cancelled != r.SlowCopies || r.Attempts != r.Calls+r.SlowCopies {
			t.Errorf("%d calls: error %v, %d attempts, %d copies on the slow provider of which %d cancelled;"+
				" want success, some copies on the slow provider, every one cancelled, and a copy to the fast one for each",
				r.Calls, r.Err, r.Attempts, r.SlowCopies, r.Cancelled)
		}
	})
	t.Run("effective policy", func(t *testing.T) {
		p, err := EffectivePolicy(addr)
		if err != nil {
			t.Fatal(err)
		}
		retry, hedge, greet := p.Method("GreetRetry"), p.Method("GreetHedge"), p.Method("Greet")
		if retry == nil || hedge == nil || greet == nil {
			t.Fatalf("methods of the policy: %+v", p.Methods)
		}
		for _, c := range []struct {
			what      string
			got, want any
		}{
			{"GreetRetry's retries", retry.Retries, dubboretry.Value[int]{Value: 5, From: dubboretry.MethodOption}},
			{"Greet's retries", greet.Retries, dubboretry.Value[int]{Value: 1, From: dubboretry.Client}},
			{"GreetRetry's timeout", retry.Timeout, dubboretry.Value[time.Duration]{Value: time.Second, From: dubboretry.ServiceOption}},
			{"GreetRetry's retry_on", retry.RetryOn.From, dubboretry.ProtoMethod},
			{"GreetRetry's backoff", retry.Backoff.From, dubboretry.MethodOption},
			{"GreetHedge's hedging", hedge.Hedging, dubboretry.Value[dubboretry.Hedging]{
				Value: dubboretry.Hedging{MaxAttempts: 2, Delay: 50 * time.Millisecond}, From: dubboretry.ProtoMethod}},
			{"the budget", p.Budget.From, dubboretry.ProtoService},
		} {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s: %+v, want %+v", c.what, c.got, c.want)
			}
		}
	})
	t.Run("budget", func(t *testing.T) {
		with := find("the budget", func(r Result) bool { return r.check == checkBudget })
		without := find("no budget", func(r Result) bool { return r.isOutage() && !r.withBudget })
		if without.Attempts != 4*without.Calls {
			t.Errorf("without a budget: %d attempts for %d calls, want 4 a call", without.Attempts, without.Calls)
		}
		// The gate closes once 5 retries in a row have failed, and lets a
		// probe through every 10 s: the row takes a second or so.
		if lo, hi := with.Calls+5, with.Calls+6; with.Attempts < lo || with.Attempts > hi {
			t.Errorf("with the budget: %d attempts for %d calls, want %d to %d", with.Attempts, with.Calls, lo, hi)
		}
		if with.PerCall() > 1.02 {
			t.Errorf("attempts a call with the budget: %.3f, want at most 1.02", with.PerCall())
		}
	})

	if t.Failed() || strings.Contains(table.String(), "UNEXPECTED") {
		t.Logf("the demo prints:\n%s", table.String())
	}
}
