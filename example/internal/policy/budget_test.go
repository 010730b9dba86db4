package policy

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// callAll makes calls calls of method from 8 goroutines, each call with a
// fresh id, and returns the ids and how many calls succeeded.
func callAll(t *testing.T, method unary, calls int) (ids []string, succeeded int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ids = make([]string, calls)
	errs := make([]error, calls)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s#%d", t.Name(), i)
	}
	var wg sync.WaitGroup
	const goroutines = 8
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < calls; i += goroutines {
				_, errs[i] = method(ctx, &e2ev1.Request{Id: ids[i]})
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case err == nil:
			succeeded++
		case triple_protocol.CodeOf(err) != unavailable:
			t.Fatalf("%s: %v, want success or %v", ids[i], err, unavailable)
		}
	}
	return ids, succeeded
}

// An outage: three providers, each in a process of its own, fail every
// attempt. BudgetService.Declared has 3 retries of UNAVAILABLE and, in its
// .proto, a budget of ratio 0.1 (and the default reserve of 10 a second
// over the 10 s window): the outage costs the providers at most 1.15
// attempts a call, 2,000 first attempts and 0.1 × 2,000 + 10 × 10 retries.
// Without the budget (dubboretry.WithoutBudget, layer 3) each call makes 4
// attempts (the last one on a provider already tried).
func TestOutageBudget(t *testing.T) {
	providers := startProviders(t, "fail", "fail", "fail")
	cli := clientOf(t, providers)
	const calls = 2000
	for _, tc := range []struct {
		name string
		opts []client.ReferenceOption
		want func(perCall float64) bool
		says string
	}{
		// First: it spends nothing of the budget the second case has.
		{"without a budget", []client.ReferenceOption{dubboretry.WithoutBudget()},
			func(a float64) bool { return a == 4 }, "4.0"},
		{"with the .proto's budget of ratio 0.1", nil,
			func(a float64) bool { return a > 1 && a <= 1.15 }, "above 1, at most 1.15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := testbed.Try(e2ev1.NewBudgetService(cli, tc.opts...)).Must(t)
			ids, succeeded := callAll(t, svc.Declared, calls)
			if succeeded != 0 {
				t.Errorf("%d calls succeeded on providers that fail every attempt", succeeded)
			}
			attempts := total(testbed.Counts(t, providers...), ids)
			perCall := float64(attempts) / calls
			if !tc.want(perCall) {
				t.Errorf("%d attempts for %d calls: %.4f a call, want %s", attempts, calls, perCall, tc.says)
			}
			t.Logf("%s: %d calls, %d attempts, %.4f a call", tc.name, calls, attempts, perCall)
		})
	}
}

// Transient failures: three providers fail 10% of attempts at random
// (seeded). With the same policy as BudgetService's, the retries the
// failures need fit in the budget: at least 99% of 2,000 calls succeed.
// SpareBudgetService's budget is not the one TestOutageBudget spends:
// budgets are per service.
func TestTransientFailuresBudget(t *testing.T) {
	providers := startProviders(t, "flaky:1:10", "flaky:2:10", "flaky:3:10")
	cli := clientOf(t, providers)
	svc := testbed.Try(e2ev1.NewSpareBudgetService(cli)).Must(t)
	const calls = 2000
	ids, succeeded := callAll(t, svc.Declared, calls)
	attempts := total(testbed.Counts(t, providers...), ids)
	if succeeded < calls*99/100 {
		t.Errorf("%d of %d calls succeeded, want at least 99%%", succeeded, calls)
	}
	t.Logf("%d calls, %d succeeded (%.2f%%), %d attempts, %.4f a call",
		calls, succeeded, 100*float64(succeeded)/calls, attempts, float64(attempts)/calls)
}
