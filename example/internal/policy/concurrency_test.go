package policy

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// tight is the binding budget of TestConcurrentCallsShareTheBudget, kept
// over the runs of the test in the process (go test -count): the budget is
// the process's, and so is the bound it keeps.
var tight struct {
	mu             sync.Mutex
	calls, retries int
}

// TestConcurrentCallsShareTheBudget makes calls from 32 goroutines on two
// references of LooseBudgetService, each shared by all of them, under the
// race detector in the test command.
//
// With the .proto's budget, whose cap never binds (a reserve of 10⁷
// retries), and retries that succeed, so that its gate stays open, the
// budget changes nothing: every call sees exactly the attempts its failures
// and retries make. A call fails its first k attempts (k seeded, 0 or 1)
// with UNAVAILABLE, which Declared retries 3 times: it makes k + 1 attempts
// and succeeds.
//
// With a binding budget (ratio 0.1, no reserve: dubboretry.WithBudget at
// layer 3, for a .proto cannot declare a budget without a reserve), every
// call failing every attempt, the retries never exceed 0.1 × the first
// attempts. With no reserve that holds over any run, however many windows
// it spans: a retry stays counted in the window as long as the first
// attempts that allowed it do. The two references of the service declare
// different budgets, so each enforces its own: the binding one must not
// take a retry from the other, which the exact counts of the other show.
func TestConcurrentCallsShareTheBudget(t *testing.T) {
	const (
		goroutines = 32
		calls      = 2000 // per reference
	)
	cli := testbed.Client(t)
	loose := testbed.Try(e2ev1.NewLooseBudgetService(cli)).Must(t)
	binding := testbed.Try(e2ev1.NewLooseBudgetService(cli, dubboretry.WithBudget(0.1, 0))).Must(t)

	// A bound, not a measurement: a call that hangs fails the test instead
	// of the test run.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	r := rand.New(rand.NewPCG(32, 2000))
	fails := make([]uint32, calls)
	for i := range fails {
		fails[i] = uint32(r.IntN(2))
	}
	type outcome struct {
		id   string
		code triple_protocol.Code // 0: success
	}
	looseOut := make([]outcome, calls)
	bindingOut := make([]outcome, calls)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < calls; i += goroutines {
				looseOut[i].id = id(t, unavailable)
				_, err := loose.Declared(ctx, &e2ev1.Request{Id: looseOut[i].id, Fail: fails[i]})
				looseOut[i].code = codeOrZero(err)

				bindingOut[i].id = id(t, unavailable)
				_, err = binding.Declared(ctx, &e2ev1.Request{Id: bindingOut[i].id, Fail: 1000})
				bindingOut[i].code = codeOrZero(err)
			}
		})
	}
	wg.Wait()

	wrong, looseAttempts := 0, 0
	for i, o := range looseOut {
		k := fails[i]
		want, wantCode := int(min(k, 3)+1), triple_protocol.Code(0)
		if k > 3 {
			wantCode = unavailable
		}
		got := int(seen.Attempts(o.id))
		looseAttempts += got
		if got != want || o.code != wantCode {
			if wrong++; wrong <= 10 {
				t.Errorf("%s: failing %d times, %d attempts and code %v; want %d and %v", o.id, k, got, o.code, want, wantCode)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("not binding: %d of %d calls saw the wrong attempts", wrong, calls)
	}

	retries := 0
	for _, o := range bindingOut {
		got := int(seen.Attempts(o.id))
		if got < 1 || got > 4 || o.code != unavailable {
			t.Errorf("%s: %d attempts, code %v; want 1 to 4 attempts and %v", o.id, got, o.code, unavailable)
		}
		retries += got - 1
	}
	tight.mu.Lock()
	tight.calls += calls
	tight.retries += retries
	allCalls, allRetries := tight.calls, tight.retries
	tight.mu.Unlock()
	if allRetries > allCalls/10 {
		t.Errorf("binding: %d retries for %d calls in the process, over the budget's %d", allRetries, allCalls, allCalls/10)
	}
	if retries == 0 {
		t.Errorf("binding: no retry at all, want the budget's 0.1 of the calls")
	}
	t.Logf("not binding: %d calls, %d attempts, all as their failures say; binding: %d calls, %d retries (at most %d allowed)",
		calls, looseAttempts, calls, retries, calls/10)
}

func codeOrZero(err error) triple_protocol.Code {
	if err == nil {
		return 0
	}
	return triple_protocol.CodeOf(err)
}
