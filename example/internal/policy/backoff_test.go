package policy

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// The backoffs of the methods of BackoffService, as its .proto declares
// them (3 retries of UNAVAILABLE): the tests compute the delays a seeded
// service waits from them.
var (
	// Short: delays drawn from [0, 20ms), [0, 40ms), [0, 80ms).
	short = dubboretry.Backoff{Initial: 20 * time.Millisecond, Max: 80 * time.Millisecond, Multiplier: 2}
	// Flat: every delay drawn from [0, 1s).
	flat = dubboretry.Backoff{Initial: time.Second, Max: time.Second, Multiplier: 1}
	// Steep: delays drawn from [0, 100ms), [0, 400ms), [0, 1s).
	steep = dubboretry.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 4}
)

// The server sees the attempts of a call of BackoffService.Short at least
// the .proto's delays apart. With a seeded source (dubboretry.WithJitterSeed,
// layer 3) the delays are known: the n-th delay the service waits is
// Backoff.Delay(retry, the n-th draw of rand.New(rand.NewPCG(seed, seed))). A gap can only be longer than
// its delay (it adds an exchange with the server); the test checks the
// lower bound, and logs how much longer the gaps were.
func TestBackoffGaps(t *testing.T) {
	const seed, calls = 2026, 20
	svc := testbed.Try(e2ev1.NewBackoffService(testbed.Client(t), dubboretry.WithJitterSeed(seed))).Must(t)
	draws := rand.New(rand.NewPCG(seed, seed))

	var delays, gaps time.Duration
	var over time.Duration // the largest excess of a gap over its delay
	for range calls {
		id := id(t, unavailable)
		_, err := svc.Short(context.Background(), &e2ev1.Request{Id: id, Fail: 1000})
		if code := triple_protocol.CodeOf(err); code != unavailable {
			t.Fatalf("the call failed with %v, want %v", code, unavailable)
		}
		got := seen.Gaps(id)
		if len(got) != 3 {
			t.Fatalf("%s: %d attempts, want 4", id, len(got)+1)
		}
		for i, gap := range got {
			delay := short.Delay(i+1, draws.Float64())
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
	cli := testbed.Client(t)
	for _, tc := range []struct {
		name     string
		method   func(e2ev1.BackoffService) unary
		seed     uint64
		deadline time.Duration
		attempts uint32
	}{
		{
			// Flat: the first delay is at least 500ms, the deadline 200ms
			// away.
			name:     "in the first delay",
			method:   func(s e2ev1.BackoffService) unary { return s.Flat },
			seed:     seedWhere(func(u float64) bool { return flat.Delay(1, u) >= 500*time.Millisecond }),
			deadline: 200 * time.Millisecond,
			attempts: 1,
		},
		{
			// Steep: the first delay is at most 10ms, the second at least
			// 300ms.
			name:   "in the second delay",
			method: func(s e2ev1.BackoffService) unary { return s.Steep },
			seed: seedWhere(
				func(u float64) bool { return steep.Delay(1, u) <= 10*time.Millisecond },
				func(u float64) bool { return steep.Delay(2, u) >= 300*time.Millisecond }),
			deadline: 200 * time.Millisecond,
			attempts: 2,
		},
	} {
		svc := testbed.Try(e2ev1.NewBackoffService(cli, dubboretry.WithJitterSeed(tc.seed))).Must(t)
		ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
		id := id(t, unavailable)
		_, err := tc.method(svc)(ctx, &e2ev1.Request{Id: id, Fail: 1000})
		cancel()
		if code := triple_protocol.CodeOf(err); code != unavailable {
			t.Errorf("%s: the call failed with %v (%v), want the last attempt's %v", tc.name, code, err, unavailable)
		}
		// The call has returned: the cluster makes no attempt after that.
		if got := seen.Attempts(id); got != tc.attempts {
			t.Errorf("%s: the server saw %d attempts, want %d", tc.name, got, tc.attempts)
		}
	}
}
