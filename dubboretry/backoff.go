package dubboretry

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Ceiling returns the upper bound of the delay before retry n (n = 1, 2,
// ...): min(Max, Initial × Multiplier^(n-1)), with the defaults of the
// zero fields of b. It returns 0 for n < 1.
func (b Backoff) Ceiling(n int) time.Duration {
	if n < 1 || b.Initial <= 0 {
		return 0
	}
	b = b.withDefaults()
	c := float64(b.Initial) * math.Pow(b.Multiplier, float64(n-1))
	if c >= float64(b.Max) {
		return b.Max
	}
	return time.Duration(c)
}

// Delay returns the delay before retry n for a draw u from [0, 1): u ×
// Ceiling(n), so that delays are uniform over [0, Ceiling(n)) ("full
// jitter").
func (b Backoff) Delay(n int, u float64) time.Duration {
	return time.Duration(u * float64(b.Ceiling(n)))
}

// sleep waits for d or until ctx ends, whichever comes first, and reports
// whether it waited for d. It is how a call waits between attempts; tests
// replace it.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// globalJitter draws from math/rand/v2's global source, which is safe for
// concurrent use without a lock.
func globalJitter() float64 { return rand.Float64() }

// seededJitter returns the draws of rand.New(rand.NewPCG(seed, seed)), in
// order, for WithJitterSeed. A mutex serialises the draws of concurrent
// calls; only services given a seed pay for it.
func seededJitter(seed uint64) func() float64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}
