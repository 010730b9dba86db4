package dubboretry

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// withdrawAll withdraws until the budget refuses, and returns how many
// retries it granted.
func withdrawAll(b *budget) int {
	n := 0
	for b.withdraw() {
		n++
		if n > 1e6 {
			panic("the budget never refuses")
		}
	}
	return n
}

func deposit(b *budget, n int) {
	for range n {
		b.deposit()
	}
}

// closeGate makes the gate of b close: five failed retries in a row close
// it from any score.
func closeGate(t *testing.T, b *budget) {
	t.Helper()
	for range 5 {
		b.observe(false, true)
	}
	if b.open() {
		t.Fatal("the gate is open after five failed retries")
	}
}

// The budget allows ratio × first attempts + MinRetriesPerSecond × 10
// retries, and not one more.
func TestBudgetAllowance(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget Budget
		firsts int
		want   int
	}{
		{"reserve alone", Budget{Ratio: 0.01, MinRetriesPerSecond: 3}, 0, 30},
		{"ratio alone", Budget{Ratio: 0.1}, 100, 10},
		{"ratio, rounded down", Budget{Ratio: 0.1}, 109, 10},
		{"ratio and reserve", Budget{Ratio: 0.1, MinRetriesPerSecond: 10}, 2000, 300},
		{"ratio 1", Budget{Ratio: 1}, 7, 7},
		{"a product just under a whole number", Budget{Ratio: 0.29}, 100, 29},
		{"nothing deposited, no reserve", Budget{Ratio: 1}, 0, 0},
	} {
		b := newBudget(tc.budget, newFakeClock().now)
		deposit(b, tc.firsts)
		if got := withdrawAll(b); got != tc.want {
			t.Errorf("%s: %d retries granted, want %d", tc.name, got, tc.want)
		}
	}
}

// Deposits and retries count until the end of the tenth second after the
// one they were counted in: the cap counts the current second and the ten
// before it.
func TestBudgetWindowSlides(t *testing.T) {
	clock := newFakeClock()
	b := newBudget(Budget{Ratio: 0.5}, clock.now)
	deposit(b, 10) // second 0
	if got := withdrawAll(b); got != 5 {
		t.Fatalf("%d granted, want 5", got)
	}
	clock.advance(10*time.Second + 999*time.Millisecond)
	deposit(b, 4) // second 10: 14 counted, and 5 retries
	if got := withdrawAll(b); got != 2 {
		t.Fatalf("second 10: %d granted, want 2", got)
	}
	clock.advance(time.Millisecond)
	// Second 11: second 0 (10 deposits, 5 retries) has left; second 10 (4
	// deposits, 2 retries) has not.
	if got := withdrawAll(b); got != 0 {
		t.Fatalf("second 11: %d granted, want 0", got)
	}
	deposit(b, 2)
	if got := withdrawAll(b); got != 1 {
		t.Fatalf("second 11, 2 more deposits: %d granted, want 1", got)
	}
	clock.advance(time.Hour)
	deposit(b, 2)
	if got := withdrawAll(b); got != 1 {
		t.Fatalf("an hour later: %d granted, want 1", got)
	}
}

// At the edges of the slots: retries made at any moment of a second still
// count 10 s later, and the reserve is spent at most once in any 10 s
// (with ten slots, retries made at the end of a second left the count
// 9.000000001 s later). First attempts count for 11 s at most.
func TestBudgetSlotEdges(t *testing.T) {
	for _, at := range []time.Duration{0, 1, 500 * time.Millisecond, time.Second - 1} {
		clock := newFakeClock()
		b := newBudget(Budget{Ratio: 0.1, MinRetriesPerSecond: 1}, clock.now)
		clock.advance(at)
		if got := withdrawAll(b); got != 10 {
			t.Fatalf("at %v: %d granted, want the reserve, 10", at, got)
		}
		clock.advance(10 * time.Second)
		if b.allows() || b.withdraw() {
			t.Errorf("retries at %v, and again at %v: the reserve spent twice in 10 s", at, at+10*time.Second)
		}
		clock.advance(11*time.Second - 1 - (at + 10*time.Second)) // 10.999999999 s, the end of second 10
		if b.allows() || b.withdraw() {
			t.Errorf("retries at %v, and again at 10.999999999 s", at)
		}
		clock.advance(1) // 11 s
		if got := withdrawAll(b); got != 10 {
			t.Errorf("retries at %v: at 11 s, %d granted, want 10", at, got)
		}
	}

	for _, tc := range []struct {
		later time.Duration
		want  bool
	}{{11*time.Second - 1, true}, {11 * time.Second, false}} {
		clock := newFakeClock()
		b := newBudget(Budget{Ratio: 1}, clock.now)
		b.deposit() // at 0
		clock.advance(tc.later)
		if got := b.withdraw(); got != tc.want {
			t.Errorf("a first attempt at 0, a retry at %v: granted %v, want %v", tc.later, got, tc.want)
		}
	}
}

// The cap's promise, by brute force over random schedules that crowd the
// edges of the slots: every retry is granted exactly when the slot rule
// grants it (counting it, the retries of the current second and the ten
// before it are at most ratio × the first attempts of those seconds +
// reserve), and so, for every retry made at y, the retries of (y-10 s, y]
// number at most ratio × the first attempts of (y-11 s, y] + reserve.
// Outcomes are observed at random, so that the gate closes and opens: a
// retry granted through a closed gate is a probe, at least an interval
// after the gate closed and after the previous probe. allows always
// agrees with the withdraw that follows it at the same instant.
func TestBudgetPromise(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	ratios := []float64{0.1, 0.29, 0.5, 1}
	step := func() time.Duration {
		switch r := rng.IntN(20); {
		case r < 5:
			return time.Duration(rng.IntN(3))
		case r < 10: // to the next edge of a second, or 1 ns either side
			return time.Second - 1 + time.Duration(rng.IntN(3))
		case r < 15:
			return time.Duration(rng.Int64N(int64(1500 * time.Millisecond)))
		default: // 10 s or 11 s, or 1 ns either side: the edges of the promise
			return time.Duration(10+rng.IntN(2))*time.Second - 1 + time.Duration(rng.IntN(3))
		}
	}
	in := func(times []time.Duration, from, to time.Duration) int { // (from, to]
		n := 0
		for _, x := range times {
			if x > from && x <= to {
				n++
			}
		}
		return n
	}
	grants, probes := 0, 0
	for run := range 300 {
		bud := Budget{Ratio: ratios[rng.IntN(len(ratios))], MinRetriesPerSecond: uint32(rng.IntN(3))}
		if run%5 == 0 {
			bud.Ratio = 1 - rng.Float64()
		}
		reserve := 10 * float64(bud.MinRetriesPerSecond)
		pOK := []float64{1, 0.9, 0.3, 0}[rng.IntN(4)]
		start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
		var now time.Duration
		b := newBudget(bud, func() time.Time { return start.Add(now) })
		var firsts, retries []time.Duration
		closedAt, probedAt := time.Duration(-1), time.Duration(-1)
		for range 300 {
			now += step()
			switch r := rng.IntN(10); {
			case r < 4:
				for range 1 + rng.IntN(10) {
					b.deposit()
					firsts = append(firsts, now)
				}
			case r < 8:
				// Bursts of retries, so that the cap is often spent to
				// the last retry.
				for range 1 + rng.IntN(30) {
					slotStart := (now/time.Second - 10) * time.Second
					capOK := float64(in(retries, slotStart-1, now)+1) <= bud.Ratio*float64(in(firsts, slotStart-1, now))+reserve+1e-9
					open := b.open()
					allowed := b.allows()
					got := b.withdraw()
					if allowed != got {
						t.Fatalf("run %d at %v: allows said %v, withdraw %v", run, now, allowed, got)
					}
					if open && got != capOK || !open && got && !capOK {
						t.Fatalf("run %d at %v: withdraw granted %v, the slot rule %v (gate open %v)", run, now, got, capOK, open)
					}
					if !got {
						break
					}
					grants++
					if !open {
						if now < closedAt+gateProbeInterval || probedAt >= 0 && now < probedAt+gateProbeInterval {
							t.Fatalf("run %d: a probe at %v, the gate closed at %v, the last probe at %v", run, now, closedAt, probedAt)
						}
						probedAt = now
						probes++
					}
					retries = append(retries, now)
					if n, f := in(retries, now-10*time.Second, now), in(firsts, now-11*time.Second, now); float64(n) > bud.Ratio*float64(f)+reserve+1e-9 {
						t.Fatalf("run %d: a retry at %v makes %d retries in 10 s for %d first attempts in 11 s, ratio %v, reserve %v",
							run, now, n, f, bud.Ratio, reserve)
					}
				}
			default:
				was := b.open()
				b.observe(rng.Float64() < pOK, rng.IntN(2) == 0)
				if was && !b.open() {
					closedAt = now
				}
			}
		}
	}
	t.Logf("%d retries granted, %d of them probes", grants, probes)
}

// Retries stay counted as long as deposits do, so that the retries over
// any run are at most ratio × its first attempts when there is no reserve:
// a steady stream of failing calls over many windows gets ratio of them
// retried, not more.
func TestBudgetSteadyState(t *testing.T) {
	clock := newFakeClock()
	b := newBudget(Budget{Ratio: 0.1}, clock.now)
	firsts, retries := 0, 0
	for range 100_000 {
		clock.advance(3 * time.Millisecond) // 5 minutes in all
		b.deposit()
		firsts++
		for range 3 {
			if !b.withdraw() {
				break
			}
			retries++
		}
	}
	if bound := firsts / 10; retries > bound || retries < bound*99/100 {
		t.Errorf("%d retries for %d first attempts, want at most %d, and close", retries, firsts, bound)
	}
}

// The gate counts the failures of retries, not of first attempts, and
// closes after five in a row: then no retry is allowed or granted.
func TestBudgetGateCloses(t *testing.T) {
	b := newBudget(Budget{Ratio: 1, MinRetriesPerSecond: 100}, newFakeClock().now)
	for range 1000 {
		b.observe(false, false)
	}
	if !b.open() || !b.allows() {
		t.Fatal("failed first attempts closed the gate")
	}
	for i := range 4 {
		b.observe(false, true)
		if !b.open() || !b.allows() {
			t.Fatalf("the gate closed after %d failed retries", i+1)
		}
	}
	b.observe(false, true)
	if b.open() || b.allows() || b.withdraw() {
		t.Fatal("the gate is open after five failed retries")
	}
}

// One success, of a first attempt or a retry, opens the gate, however long
// it was closed.
func TestBudgetGateReopens(t *testing.T) {
	for _, retry := range []bool{false, true} {
		b := newBudget(Budget{Ratio: 1, MinRetriesPerSecond: 100}, newFakeClock().now)
		for range 5000 { // the score underflows to 0
			b.observe(false, true)
		}
		if b.allows() {
			t.Fatal("the gate is open after 5,000 failed retries")
		}
		b.observe(true, retry)
		if !b.allows() || !b.withdraw() {
			t.Errorf("a success (retry %v) did not open the gate", retry)
		}
	}
}

// The gate's promises hold from any history: after a success it is open,
// after five failed retries in a row it is closed.
func TestBudgetGatePromises(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	b := newBudget(Budget{Ratio: 1}, newFakeClock().now)
	failedInARow := 0
	for i := range 200_000 {
		// Runs of failure rates, so that the score visits every level.
		pOK := float64((i/1000)%11) / 10
		ok, retry := rng.Float64() < pOK, rng.IntN(3) > 0
		b.observe(ok, retry)
		switch {
		case ok:
			failedInARow = 0
			if !b.open() {
				t.Fatalf("observation %d: the gate is closed after a success", i)
			}
		case retry:
			failedInARow++
		}
		if failedInARow >= 5 && b.open() {
			t.Fatalf("observation %d: the gate is open after %d failed retries in a row", i, failedInARow)
		}
	}
}

// A closed gate lets one retry through per probe interval, the first one
// interval after it closed. Asking (allows) takes nothing; probes count
// against the cap like any retry; the refusals count nothing.
func TestBudgetGateProbes(t *testing.T) {
	clock := newFakeClock()
	b := newBudget(Budget{Ratio: 1, MinRetriesPerSecond: 100}, clock.now) // a cap of 1,000
	clock.advance(time.Hour)
	closeGate(t, b)
	for i := range 3 {
		clock.advance(gateProbeInterval / 4)
		if b.allows() || b.withdraw() {
			t.Fatalf("a retry granted %v after the gate closed", time.Duration(i+1)*gateProbeInterval/4)
		}
	}
	clock.advance(gateProbeInterval/4 - 1)
	if b.allows() || b.withdraw() {
		t.Fatal("a probe 1 ns before the interval ended")
	}
	clock.advance(1)
	for range 3 {
		if !b.allows() {
			t.Fatal("the probe is not allowed when due (or asking took it)")
		}
	}
	if !b.withdraw() {
		t.Fatal("the probe is refused when due")
	}
	if b.allows() || b.withdraw() {
		t.Fatal("a second probe in the interval")
	}
	b.observe(false, true) // the probe failed
	clock.advance(gateProbeInterval - 1)
	if b.withdraw() {
		t.Fatal("a second probe 1 ns early")
	}
	clock.advance(1)
	if !b.withdraw() {
		t.Fatal("the second probe is refused")
	}
	b.observe(true, true) // the probe succeeded
	if got := withdrawAll(b); got != 998 {
		t.Errorf("the gate reopened: %d granted, want the cap less the two probes, 998", got)
	}
}

// A probe the cap refuses is not spent: the next retry the cap allows
// takes it.
func TestBudgetProbeRefusedByTheCap(t *testing.T) {
	clock := newFakeClock()
	b := newBudget(Budget{Ratio: 0.5}, clock.now)
	closeGate(t, b)
	clock.advance(gateProbeInterval)
	b.deposit() // a cap of 0.5
	if b.allows() || b.withdraw() {
		t.Fatal("the cap allowed a retry for one first attempt at ratio 0.5")
	}
	b.deposit()
	if !b.allows() || !b.withdraw() {
		t.Fatal("the probe was spent by the retry the cap refused")
	}
	deposit(b, 10)
	if b.allows() || b.withdraw() {
		t.Fatal("a second probe in the interval")
	}
}

// A gate that closes again starts the interval again.
func TestBudgetGateClosesAgain(t *testing.T) {
	clock := newFakeClock()
	b := newBudget(Budget{Ratio: 1, MinRetriesPerSecond: 100}, clock.now)
	closeGate(t, b)
	clock.advance(gateProbeInterval / 2)
	b.observe(true, false)
	closeGate(t, b)
	clock.advance(gateProbeInterval / 2)
	if b.withdraw() {
		t.Fatal("a probe one interval after the first closing, half one after the second")
	}
	clock.advance(gateProbeInterval / 2)
	if !b.withdraw() {
		t.Fatal("no probe one interval after the second closing")
	}
}

// Under contention the budget grants exactly its allowance, never one
// more: 32 goroutines deposit, then 32 withdraw, with the race detector
// watching.
func TestBudgetConcurrent(t *testing.T) {
	b := newBudget(Budget{Ratio: 0.25, MinRetriesPerSecond: 1}, newFakeClock().now)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() { deposit(b, 1000) })
	}
	wg.Wait()
	var granted atomic.Int64
	for range 32 {
		wg.Go(func() {
			for range 1000 {
				if b.withdraw() {
					granted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if want := int64(32_000/4 + 10); granted.Load() != want {
		t.Errorf("%d retries granted, want %d", granted.Load(), want)
	}
}

// Deposits and withdrawals interleaved over a moving clock: the retries in
// the run never exceed ratio × its first attempts (no reserve).
func TestBudgetConcurrentNeverExceeded(t *testing.T) {
	clock := newFakeClock()
	b := newBudget(Budget{Ratio: 0.2}, clock.now)
	var wg sync.WaitGroup
	var granted, firsts atomic.Int64
	for g := range 32 {
		wg.Go(func() {
			for i := range 2000 {
				if g == 0 && i%100 == 0 {
					clock.advance(250 * time.Millisecond)
				}
				b.deposit()
				firsts.Add(1)
				if b.withdraw() {
					granted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if bound := firsts.Load() / 5; granted.Load() > bound {
		t.Errorf("%d retries granted for %d first attempts, want at most %d", granted.Load(), firsts.Load(), bound)
	}
	if granted.Load() == 0 {
		t.Error("no retry granted")
	}
}

// The call path as the cluster runs it, from 32 goroutines: after the
// deposits, observe, allows, then withdraw. Asking takes nothing, so the
// withdrawals grant exactly the allowance; with failures that close the
// gate (and successes that reopen it) meanwhile, never more.
func TestBudgetConcurrentCallPath(t *testing.T) {
	for _, closing := range []bool{false, true} {
		b := newBudget(Budget{Ratio: 0.1, MinRetriesPerSecond: 1}, newFakeClock().now)
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				for range 1000 {
					b.deposit()
					b.observe(false, false)
				}
			})
		}
		wg.Wait()
		var granted atomic.Int64
		for g := range 32 {
			wg.Go(func() {
				for i := range 1000 {
					if b.allows() && b.withdraw() {
						granted.Add(1)
						b.observe(!closing || (g+i)%7 == 0, true)
					}
				}
			})
		}
		wg.Wait()
		want := int64(32_000/10 + 10)
		if !closing && granted.Load() != want || granted.Load() > want {
			t.Errorf("closing %v: %d retries granted, want %d (at most, when closing)", closing, granted.Load(), want)
		}
	}
}

// Of the withdrawals that race for a due probe, exactly one gets it.
func TestBudgetConcurrentProbe(t *testing.T) {
	clock := newFakeClock()
	b := newBudget(Budget{Ratio: 1, MinRetriesPerSecond: 100}, clock.now)
	closeGate(t, b)
	clock.advance(gateProbeInterval)
	var wg sync.WaitGroup
	var granted atomic.Int64
	for range 32 {
		wg.Go(func() {
			if b.allows() && b.withdraw() {
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	if granted.Load() != 1 {
		t.Errorf("%d probes granted, want 1", granted.Load())
	}
}

// The call path allocates nothing.
func TestBudgetCallPathAllocs(t *testing.T) {
	b := newBudget(Budget{Ratio: 0.5, MinRetriesPerSecond: 10}, time.Now)
	if n := testing.AllocsPerRun(1000, func() {
		b.deposit()
		b.observe(false, false)
		if b.allows() && b.withdraw() {
			b.observe(true, true)
		}
	}); n != 0 {
		t.Errorf("%v allocations a call", n)
	}
}

// BenchmarkBudgetCallPath is what the budget costs a call, on a real
// clock: a call that succeeds at once (deposit, observe), and one whose
// first attempt fails and whose retry succeeds (deposit, observe, allows,
// withdraw, observe), from 1 goroutine and from 32 sharing the budget.
func BenchmarkBudgetCallPath(b *testing.B) {
	calls := []struct {
		name string
		call func(*budget)
	}{
		{"call=ok", func(bg *budget) {
			bg.deposit()
			bg.observe(true, false)
		}},
		{"call=retried", func(bg *budget) {
			bg.deposit()
			bg.observe(false, false)
			if bg.allows() && bg.withdraw() {
				bg.observe(true, true)
			}
		}},
	}
	for _, c := range calls {
		b.Run(c.name+"/goroutines=1", func(b *testing.B) {
			bg := newBudget(Budget{Ratio: 1, MinRetriesPerSecond: 10}, time.Now)
			b.ReportAllocs()
			for b.Loop() {
				c.call(bg)
			}
		})
		b.Run(c.name+"/goroutines=32", func(b *testing.B) {
			bg := newBudget(Budget{Ratio: 1, MinRetriesPerSecond: 10}, time.Now)
			thirtyTwo(b)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.call(bg)
				}
			})
		})
	}
}

// A process shares one budget per service and budget parameters.
func TestSharedBudget(t *testing.T) {
	a := sharedBudget("test.Shared", Budget{Ratio: 0.1, MinRetriesPerSecond: 10})
	if b := sharedBudget("test.Shared", Budget{Ratio: 0.1, MinRetriesPerSecond: 10}); b != a {
		t.Error("two references of a service with the same budget got two budgets")
	}
	if b := sharedBudget("test.Shared", Budget{Ratio: 0.2, MinRetriesPerSecond: 10}); b == a {
		t.Error("two budgets of a service got one")
	}
	if b := sharedBudget("test.Other", Budget{Ratio: 0.1, MinRetriesPerSecond: 10}); b == a {
		t.Error("two services got one budget")
	}
}
