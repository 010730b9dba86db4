package policy

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// withBackoff is a policy for Declared (3 retries in its .proto):
// UNAVAILABLE retried, after delays drawn from [0, 20ms), [0, 40ms),
// [0, 80ms).
func withBackoff(b dubboretry.Backoff) *dubboretry.ServicePolicy {
	return &dubboretry.ServicePolicy{Methods: []dubboretry.MethodPolicy{
		{Name: "Declared", RetryOn: []triple_protocol.Code{unavailable}, Backoff: &b},
	}}
}

// The server sees the attempts of a call at least the schedule's delays
// apart. With a seeded source (dubboretry.WithJitterSeed) the delays are
// known: the n-th delay the service waits is Backoff.Delay(retry, the n-th
// draw of rand.New(rand.NewPCG(seed, seed))). A gap can only be longer than
// its delay (it adds an exchange with the server); the test checks the
// lower bound, and logs how much longer the gaps were.
func TestBackoffGaps(t *testing.T) {
	const seed, calls = 2026, 20
	b := dubboretry.Backoff{Initial: 20 * time.Millisecond, Max: 80 * time.Millisecond, Multiplier: 2}
	layer := try(e2ev1.NewLayerService(newClient(t), dubboretry.Defaults(withBackoff(b)), dubboretry.WithJitterSeed(seed))).must(t)
	draws := rand.New(rand.NewPCG(seed, seed))

	var delays, gaps time.Duration
	var over time.Duration // the largest excess of a gap over its delay
	for range calls {
		id := id(t, unavailable)
		_, err := layer.Declared(context.Background(), &e2ev1.Request{Id: id, Fail: 1000})
		if code := triple_protocol.CodeOf(err); code != unavailable {
			t.Fatalf("the call failed with %v, want %v", code, unavailable)
		}
		got := seen.gaps(id)
		if len(got) != 3 {
			t.Fatalf("%s: %d attempts, want 4", id, len(got)+1)
		}
		for i, gap := range got {
			delay := b.Delay(i+1, draws.Float64())
			if gap < delay {
				t.Errorf("%s: the server saw attempts %d and %d %v apart, less than the delay %v", id, i+1, i+2, gap, delay)
			}
			delays += delay
			gaps += gap
			over = max(over, gap-delay)
		}
	}
	t.Logf("%d calls, %d gaps: the delays drawn add up to %v, the gaps the server saw to %v (at most %v over a delay)",
		calls, 3*calls, delays, gaps, over)
}

// seedWhere returns the first seed whose draws satisfy want, the first
// draw first: a seed whose delays the test knows.
func seedWhere(want ...func(float64) bool) uint64 {
	for seed := uint64(0); ; seed++ {
		r := rand.New(rand.NewPCG(seed, seed))
		ok := true
		for _, w := range want {
			ok = ok && w(r.Float64())
		}
		if ok {
			return seed
		}
	}
}

// A context deadline that falls inside a delay ends the call with the last
// attempt's error, not the context's, and no attempt follows.
func TestDeadlineInsideDelay(t *testing.T) {
	cli := newClient(t)
	for _, tc := range []struct {
		name     string
		backoff  dubboretry.Backoff
		seed     uint64
		deadline time.Duration
		attempts int
	}{
		{
			// The first delay is at least 500ms, the deadline 200ms away.
			name:     "in the first delay",
			backoff:  dubboretry.Backoff{Initial: time.Second, Max: time.Second, Multiplier: 1},
			seed:     seedWhere(func(u float64) bool { return u >= 0.5 }),
			deadline: 200 * time.Millisecond,
			attempts: 1,
		},
		{
			// The first delay is at most 10ms, the second at least 300ms.
			name:     "in the second delay",
			backoff:  dubboretry.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 4},
			seed:     seedWhere(func(u float64) bool { return u <= 0.1 }, func(u float64) bool { return u >= 0.75 }),
			deadline: 200 * time.Millisecond,
			attempts: 2,
		},
	} {
		layer := try(e2ev1.NewLayerService(cli, dubboretry.Defaults(withBackoff(tc.backoff)), dubboretry.WithJitterSeed(tc.seed))).must(t)
		ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
		id := id(t, unavailable)
		_, err := layer.Declared(ctx, &e2ev1.Request{Id: id, Fail: 1000})
		cancel()
		if code := triple_protocol.CodeOf(err); code != unavailable {
			t.Errorf("%s: the call failed with %v (%v), want the last attempt's %v", tc.name, code, err, unavailable)
		}
		// The call has returned: the cluster makes no attempt after that.
		if got := seen.attempts(id); got != tc.attempts {
			t.Errorf("%s: the server saw %d attempts, want %d", tc.name, got, tc.attempts)
		}
	}
}
