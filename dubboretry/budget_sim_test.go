package dubboretry

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The simulation runs calls as the cluster makes them, against providers
// that fail as a scenario says, on a simulated clock: 4 client goroutines,
// 3 providers, 3 retries on a retryable failure, each to a provider not yet
// tried, full-jitter backoff from 10 ms to 100 ms, and a budget of ratio
// 0.1 with a reserve of 10 retries per second. The goroutines are
// coroutines (iter.Pull) run one at a time in the order of their simulated
// clocks, so that a seed gives one run, always the same.
//
// It compares three ways of limiting retries on the same calls: the
// budget before the gate ("today"), the budget of this package ("gate"),
// and grpc-go's retry throttling (maxTokens 10, tokenRatio 0.1). The first
// and the last were measured with real clients on loopback providers, with
// the parameters above, before the gate was designed:
//
//	scenario                                  today          gRPC
//	full outage, 2,000 calls at full speed    1.150 a call   1.002
//	full outage at 50 calls/s, 500 calls      1.358          1.008
//	10% of attempts fail                      100% succeed   93.4%
//	outage, then 10% failing                  99.6%          96.5%
//	1 of 3 providers slow                     86.8%          n/a
//
// The simulation comes close on the outage and slow-provider rows (at 50
// calls/s the measured run lasted longer than 10 s, and today's ten slots
// let the reserve be spent a second time). How long the measured runs with
// transient failures lasted was not recorded; the cap and grpc-go's tokens
// depend on it, so those rows differ by a few points.

const (
	simGoroutines = 4
	simProviders  = 3
	simRetries    = 3
)

var (
	simBackoff = Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond, Multiplier: 2}
	simBudget  = Budget{Ratio: 0.1, MinRetriesPerSecond: 10}
)

// simPolicy limits the retries of the simulated calls, as the cluster
// would ask it.
type simPolicy interface {
	// deposit: a call begins.
	deposit()
	// failed: an attempt failed with a retryable failure. It reports
	// whether the call goes on to the delay of a retry; last: the call has
	// no retry left.
	failed(retry, last bool) bool
	// succeeded: an attempt succeeded, which ends the call.
	succeeded(retry bool)
	// send: the delay is over; whether the retry is sent.
	send() bool
}

// gatePolicy is this package's budget, called as the cluster must: deposit
// per call, observe per attempt, allows before the delay, withdraw before
// sending.
type gatePolicy struct{ b *budget }

func (p gatePolicy) deposit() { p.b.deposit() }
func (p gatePolicy) failed(retry, last bool) bool {
	p.b.observe(false, retry)
	return !last && p.b.allows()
}
func (p gatePolicy) succeeded(retry bool) { p.b.observe(true, retry) }
func (p gatePolicy) send() bool           { return p.b.withdraw() }

// legacyBudget is the budget this package had before the gate: ten slots
// of 1 s, withdrawn before the delay. Its arithmetic is the old code's; it
// is single-threaded, as the simulation is.
type legacyBudget struct {
	ratio, reserve         float64
	now                    func() time.Time
	origin                 time.Time
	ticks, firsts, retries [10]int64
}

func newLegacyBudget(b Budget, now func() time.Time) *legacyBudget {
	l := &legacyBudget{ratio: b.Ratio, reserve: 10 * float64(b.MinRetriesPerSecond), now: now, origin: now()}
	for i := range l.ticks {
		l.ticks[i] = -10
	}
	return l
}

func (l *legacyBudget) slot() (int64, int) {
	t := int64(l.now().Sub(l.origin) / time.Second)
	i := int(t % 10)
	if l.ticks[i] < t {
		l.ticks[i], l.firsts[i], l.retries[i] = t, 0, 0
	}
	return t, i
}

func (l *legacyBudget) deposit() { _, i := l.slot(); l.firsts[i]++ }

func (l *legacyBudget) failed(_, last bool) bool {
	if last {
		return false
	}
	t, i := l.slot()
	var firsts, retries int64
	for j := range l.ticks {
		if l.ticks[j] > t-10 && l.ticks[j] <= t {
			firsts += l.firsts[j]
			retries += l.retries[j]
		}
	}
	if float64(retries+1) > l.ratio*float64(firsts)+l.reserve+1e-9 {
		return false
	}
	l.retries[i]++
	return true
}

func (l *legacyBudget) succeeded(bool) {}
func (l *legacyBudget) send() bool     { return true }

// grpcThrottle is grpc-go's retry throttling (stream.go, shouldRetry and
// finish): every retryable failure takes a token, retries stop while the
// tokens are at most half the maximum, and every successful call gives
// back tokenRatio.
type grpcThrottle struct{ tokens float64 }

func (g *grpcThrottle) deposit() {}
func (g *grpcThrottle) failed(_, last bool) bool {
	g.tokens = max(0, g.tokens-1)
	return !last && g.tokens > 10/2
}
func (g *grpcThrottle) succeeded(bool) { g.tokens = min(10, g.tokens+0.1) }
func (g *grpcThrottle) send() bool     { return true }

var simPolicies = []struct {
	name string
	make func(now func() time.Time) simPolicy
}{
	{"today", func(now func() time.Time) simPolicy { return newLegacyBudget(simBudget, now) }},
	{"gate", func(now func() time.Time) simPolicy { return gatePolicy{newBudget(simBudget, now)} }},
	{"gRPC", func(func() time.Time) simPolicy { return &grpcThrottle{tokens: 10} }},
}

// simWorld is the state of one run.
type simWorld struct {
	now time.Duration // since the run began
	// healthyAt is when an outage ends, for the scenario that has one.
	healthyAt time.Duration
}

// Each call draws from its own rng, seeded by the run's seed and the
// call's number, so that every policy meets the same calls (the same
// providers, failures, latencies and delays, as far as the policy lets the
// call go) and their results differ by the policy alone.

// latency returns d, ±20%, so that the goroutines do not run in lockstep.
func latency(rng *rand.Rand, d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rng.Float64()))
}

// A failing attempt answers in about 0.5 ms, a successful one in 0.3 ms.
func fail(rng *rand.Rand) (time.Duration, bool)    { return latency(rng, 500*time.Microsecond), false }
func succeed(rng *rand.Rand) (time.Duration, bool) { return latency(rng, 300*time.Microsecond), true }

// tenPercent fails one attempt in ten, independently.
func tenPercent(rng *rand.Rand) (time.Duration, bool) {
	if rng.Float64() < 0.1 {
		return fail(rng)
	}
	return succeed(rng)
}

type simScenario struct {
	name  string
	calls int
	every time.Duration // call i starts no sooner than i × every; 0: at once
	// from is the first call counted: the ones before it only set the
	// scene (and the outage ends when it starts).
	from int
	// first is the provider of every call's first attempt; -1: one at
	// random.
	first int
	// attempt sends an attempt to a provider: when it answers, and
	// whether it succeeds.
	attempt func(w *simWorld, rng *rand.Rand, provider int) (time.Duration, bool)
	// goal checks the gate's result against today's.
	goal func(gate, today simResult) error
}

type simResult struct {
	calls, ok, attempts int
}

func (r simResult) perCall() float64 { return float64(r.attempts) / float64(r.calls) }
func (r simResult) rate() float64    { return float64(r.ok) / float64(r.calls) }

func (r *simResult) add(o simResult) {
	r.calls += o.calls
	r.ok += o.ok
	r.attempts += o.attempts
}

// simulate runs scenario sc with a policy, seeded.
func simulate(sc simScenario, policy func(func() time.Time) simPolicy, seed uint64) simResult {
	w := &simWorld{healthyAt: 1<<63 - 1}
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	p := policy(func() time.Time { return start.Add(w.now) })
	var res simResult
	next := 0
	// A goroutine makes calls until there are none left, yielding what it
	// waits for: a call's start, an attempt's answer, a delay.
	goroutine := func(yield func(time.Duration) bool) {
		for next < sc.calls {
			i := next
			next++
			if at := time.Duration(i) * sc.every; at > w.now && !yield(at-w.now) {
				return
			}
			if i == sc.from && sc.from > 0 {
				w.healthyAt = w.now
			}
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			p.deposit()
			var tried [simProviders]bool
			attempts, ok := 0, false
			for n := 0; n <= simRetries; n++ {
				if n > 0 && (!yield(simBackoff.Delay(n, rng.Float64())) || !p.send()) {
					break
				}
				to := sc.first
				if n > 0 || to < 0 {
					to = simPick(rng, &tried)
				}
				tried[to] = true
				d, good := sc.attempt(w, rng, to)
				attempts++
				if !yield(d) {
					return
				}
				if good {
					p.succeeded(n > 0)
					ok = true
					break
				}
				if !p.failed(n > 0, n == simRetries) {
					break
				}
			}
			if i >= sc.from {
				res.calls++
				res.attempts += attempts
				if ok {
					res.ok++
				}
			}
		}
	}
	type g struct {
		next func() (time.Duration, bool)
		wake time.Duration
	}
	var gs []*g
	for range simGoroutines {
		next, stop := iter.Pull(iter.Seq[time.Duration](goroutine))
		defer stop()
		gs = append(gs, &g{next: next})
	}
	for len(gs) > 0 {
		k := 0
		for j := range gs {
			if gs[j].wake < gs[k].wake {
				k = j
			}
		}
		w.now = gs[k].wake
		d, more := gs[k].next()
		if !more {
			gs = append(gs[:k], gs[k+1:]...)
			continue
		}
		gs[k].wake = w.now + d
	}
	return res
}

// simPick returns a provider not yet tried, at random, as failover's
// selection does; when all have been, any.
func simPick(rng *rand.Rand, tried *[simProviders]bool) int {
	var left []int
	for i, t := range tried {
		if !t {
			left = append(left, i)
		}
	}
	if len(left) == 0 {
		return rng.IntN(simProviders)
	}
	return left[rng.IntN(len(left))]
}

func atMost(perCall float64) func(gate, _ simResult) error {
	return func(gate, _ simResult) error {
		if gate.perCall() > perCall {
			return fmt.Errorf("%.4f attempts a call, want at most %.2f", gate.perCall(), perCall)
		}
		return nil
	}
}

func atLeast(rate float64) func(gate, _ simResult) error {
	return func(gate, _ simResult) error {
		if gate.rate() < rate {
			return fmt.Errorf("%.2f%% of calls succeed, want at least %.1f%%", 100*gate.rate(), 100*rate)
		}
		return nil
	}
}

var simScenarios = []simScenario{
	{
		name: "full outage, 2,000 calls at full speed", calls: 2000, first: -1,
		attempt: func(_ *simWorld, rng *rand.Rand, _ int) (time.Duration, bool) { return fail(rng) },
		goal:    atMost(1.01),
	},
	{
		name: "full outage at 50 calls/s, 500 calls", calls: 500, every: 20 * time.Millisecond, first: -1,
		attempt: func(_ *simWorld, rng *rand.Rand, _ int) (time.Duration, bool) { return fail(rng) },
		goal:    atMost(1.02),
	},
	{
		name: "10% of attempts fail, 2,000 calls", calls: 2000, first: -1,
		attempt: func(_ *simWorld, rng *rand.Rand, _ int) (time.Duration, bool) { return tenPercent(rng) },
		goal:    atLeast(0.999),
	},
	{
		name: "outage (2,000 calls), then 10% fail (2,000)", calls: 4000, from: 2000, first: -1,
		attempt: func(w *simWorld, rng *rand.Rand, _ int) (time.Duration, bool) {
			if w.now < w.healthyAt {
				return fail(rng)
			}
			return tenPercent(rng)
		},
		goal: atLeast(0.995),
	},
	{
		name: "1 of 3 providers slow (200 ms, cut at 50 ms), 1,000 calls", calls: 1000, first: -1,
		attempt: func(_ *simWorld, rng *rand.Rand, p int) (time.Duration, bool) {
			if p == 0 {
				return 50 * time.Millisecond, false // the attempt's timeout
			}
			return succeed(rng)
		},
		goal: func(gate, today simResult) error {
			if gate.ok < today.ok {
				return fmt.Errorf("%d calls succeed, today's budget %d", gate.ok, today.ok)
			}
			return nil
		},
	},
	{
		// Not a goal of the design: a provider that fails at once draws
		// the first attempts (as least-active balancing sends them to the
		// provider that answers fastest), and the retries, to the others,
		// succeed.
		name: "first attempts to a failing provider, 1,000 calls", calls: 1000,
		first: 0,
		attempt: func(_ *simWorld, rng *rand.Rand, p int) (time.Duration, bool) {
			if p == 0 {
				return fail(rng)
			}
			return succeed(rng)
		},
	},
}

// simSeeds is how many seeds each scenario runs with; each must meet the
// goal.
const simSeeds = 10

// TestBudgetSimulation runs the scenarios and checks the gate's results
// against the goals: an outage costs at most 1.01 attempts a call at full
// speed and 1.02 at 50 calls/s, transient failures leave 99.9% of calls
// succeeding, 99.5% after an outage, and a slow provider no fewer than the
// budget without the gate.
func TestBudgetSimulation(t *testing.T) {
	var table strings.Builder
	fmt.Fprintf(&table, "%-58s", fmt.Sprintf("mean of %d seeds: attempts a call, calls that succeed", simSeeds))
	for _, p := range simPolicies {
		fmt.Fprintf(&table, " | %-15s", p.name)
	}
	fmt.Fprintf(&table, " | gate, worst seed\n")
	for _, sc := range simScenarios {
		results := make([]simResult, len(simPolicies))
		worstPerCall, worstRate := 0.0, 1.0
		for seed := range uint64(simSeeds) {
			var today, gate simResult
			for k, p := range simPolicies {
				r := simulate(sc, p.make, seed)
				results[k].add(r)
				switch p.name {
				case "today":
					today = r
				case "gate":
					gate = r
				}
			}
			if sc.goal != nil {
				if err := sc.goal(gate, today); err != nil {
					t.Errorf("%s, seed %d: %v", sc.name, seed, err)
				}
			}
			worstPerCall, worstRate = max(worstPerCall, gate.perCall()), min(worstRate, gate.rate())
		}
		fmt.Fprintf(&table, "%-58s", sc.name)
		for _, r := range results {
			fmt.Fprintf(&table, " | %.4f %7.3f%%", r.perCall(), 100*r.rate())
		}
		fmt.Fprintf(&table, " | %.4f %7.3f%%\n", worstPerCall, 100*worstRate)
	}
	t.Logf("attempts a call and calls that succeed:\n%s", table.String())
}
