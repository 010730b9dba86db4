package dubboretry

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// A budget is two limits on the retries of a service, and a retry must
// pass both:
//
//   - The cap, Finagle's RetryBudget: a retry is made only if, counting
//     it, the retries of the last budgetWindow (10 s) number at most
//     ratio × the first attempts of the last budgetWindow + budgetSlot
//     (11 s), plus the reserve (10 × MinRetriesPerSecond). It bounds the
//     load retries add, whatever they achieve.
//   - The gate, in the spirit of grpc-go's retry throttling: a score of
//     recent outcomes. Once retries keep failing (an outage), the gate
//     closes and lets one retry through per gateProbeInterval (a probe);
//     the first success of any attempt reopens it.
//
// The cap alone cannot tell an outage, where every retry is wasted, from
// transient failures, where nearly every retry succeeds: a cap tight
// enough to make an outage cheap starves transient failures of retries.
// The gate tells them apart, so the cap can stay generous.

// The cap counts in slots of budgetSlot, and grants a retry against the
// current slot and the budgetWindow/budgetSlot slots before it. A retry
// made at the very end of a slot thus stays counted for budgetWindow at
// least: no retry stops counting less than budgetWindow after it was made,
// so the reserve cannot be spent twice within budgetWindow. The price is
// that first attempts count for up to budgetWindow + budgetSlot, which the
// promise says.
const (
	budgetWindow = 10 * time.Second
	budgetSlot   = time.Second
	budgetSlots  = int64(budgetWindow/budgetSlot) + 1
	// budgetWindowSeconds multiplies MinRetriesPerSecond into the reserve.
	budgetWindowSeconds = budgetWindow / time.Second
)

// The gate. Its score is an exponentially weighted average of outcomes
// (1 for a success, 0 for a failure), the newest weighing gateWeight; it
// starts at 1, and the gate is open while it is at least gateThreshold.
//
// The outcomes are the successes of every attempt and the failures of
// retries: whether a retry helps is what a retry's failure says, and what
// a first attempt's failure does not. When the load balancer sends the
// first attempts to a provider that fails while the others are healthy,
// first attempts mostly fail and retries succeed: counting the first
// failures would close the gate on the very retries that save the calls.
//
// With gateWeight = gateThreshold = 1/4 the gate keeps two promises
// whatever came before, in float64 too: a success leaves the score at 1/4
// at least, so one success opens the gate; five failed retries in a row
// leave it at (3/4)^5 ≈ 0.237 at most, so they close it (from 1, four
// leave 0.316 and do not). Five wasted retries are the price of an outage;
// under 10% independent failures, five failed retries in a row happen
// about once in 100,000 retries, and the next success reopens the gate. A
// heavier weight closes on fewer failures, and then closes under 10%
// failures too (weight and threshold 1/2, which two failures close: 99.4%
// of calls succeed in budget_sim_test.go, not 99.99%); a lighter one costs
// more retries per outage (1/8, sixteen failures: 1.03 attempts a call in
// an outage at 50 calls/s, not 1.01).
//
// A closed gate lets one retry through per gateProbeInterval, the first
// one interval after it closed: a probe, so that the gate learns that
// retries help again even when no first attempt succeeds (they may all go
// to the provider that fails). 10 s, the window of the cap, keeps an
// outage at one wasted retry per 10 s whatever the rate of calls; a 1 s
// interval costs 1.03 attempts a call in an outage at 50 calls/s.
const (
	gateWeight        = 0.25
	gateThreshold     = 0.25
	gateProbeInterval = 10 * time.Second
)

// budget is the retry budget of a service in a process: the cap and the
// gate.
//
// A call pays deposit (a clock reading and an atomic add) and an observe per
// attempt (an atomic load; a compare-and-swap while outcomes vary). A retry
// pays allows (atomic loads) and withdraw, which takes a mutex so that two
// retries cannot both take the last one the cap allows.
type budget struct {
	ratio   float64
	reserve float64 // MinRetriesPerSecond × the window in seconds
	now     func() time.Time
	origin  time.Time // slot 0 began here

	// score is the gate's score, as math.Float64bits.
	score atomic.Uint64
	// nextProbe is when (since origin) a closed gate may next let a retry
	// through. It never decreases.
	nextProbe atomic.Int64

	mu    sync.Mutex // serialises withdrawals and the reuse of a slot
	slots [budgetSlots]slot
}

// slot counts one slot of the cap: the slot number tick (from origin),
// which it holds until it is reused for tick + budgetSlots.
type slot struct {
	tick    atomic.Int64
	firsts  atomic.Int64
	retries atomic.Int64 // written under budget.mu only
}

// newBudget returns a budget b on the clock now, its gate open.
func newBudget(b Budget, now func() time.Time) *budget {
	bg := &budget{
		ratio:   b.Ratio,
		reserve: float64(b.MinRetriesPerSecond) * float64(budgetWindowSeconds),
		now:     now,
		origin:  now(),
	}
	bg.score.Store(math.Float64bits(1))
	for i := range bg.slots {
		// No slot holds a slot number yet: -budgetSlots is outside every
		// count.
		bg.slots[i].tick.Store(-budgetSlots)
	}
	return bg
}

// since returns the time since origin.
func (b *budget) since() time.Duration {
	d := b.now().Sub(b.origin)
	if d < 0 {
		// A clock before the origin, which a monotonic one never gives.
		return 0
	}
	return d
}

func tickOf(d time.Duration) int64 { return int64(d / budgetSlot) }

// current returns the slot of slot number t, reused for it if it held an
// older one.
func (b *budget) current(t int64) *slot {
	s := &b.slots[t%budgetSlots]
	if s.tick.Load() == t {
		return s
	}
	b.mu.Lock()
	b.reuse(s, t)
	b.mu.Unlock()
	return s
}

// reuse makes s count slot number t, if it counts an older one. b.mu is
// held.
func (b *budget) reuse(s *slot, t int64) {
	if s.tick.Load() < t {
		s.firsts.Store(0)
		s.retries.Store(0)
		s.tick.Store(t)
	}
}

// deposit counts a call's first attempt. It takes no lock but once a
// second, to reuse a slot.
func (b *budget) deposit() {
	b.current(tickOf(b.since())).firsts.Add(1)
}

// count returns the first attempts and the retries counted by the slots of
// numbers t-budgetSlots+1 to t.
func (b *budget) count(t int64) (firsts, retries int64) {
	for i := range b.slots {
		s := &b.slots[i]
		if tick := s.tick.Load(); tick > t-budgetSlots && tick <= t {
			firsts += s.firsts.Load()
			retries += s.retries.Load()
		}
	}
	return firsts, retries
}

// fits reports whether one more retry keeps retries within the cap of
// firsts.
func (b *budget) fits(firsts, retries int64) bool {
	// The tolerance keeps a product such as 0.29 × 100 = 28.999999999999996
	// from refusing the retry that makes 29.
	return float64(retries+1) <= b.ratio*float64(firsts)+b.reserve+1e-9
}

// open reports whether the gate is open.
func (b *budget) open() bool {
	return math.Float64frombits(b.score.Load()) >= gateThreshold
}

// allows reports whether a retry would be granted now, and takes nothing:
// the cluster asks it before the delay, so that a retry that will be
// refused ends the call at once. It reads without the lock, so it may be
// stale by a concurrent withdrawal; withdraw decides.
func (b *budget) allows() bool {
	d := b.since()
	if !b.open() && d < time.Duration(b.nextProbe.Load()) {
		return false
	}
	return b.fits(b.count(tickOf(d)))
}

// withdraw grants a retry now and counts it, or refuses it and counts
// nothing. The cluster calls it right before sending the retry, so that
// only retries that are sent are counted. Through a closed gate, the
// granted retry is the probe of the interval.
func (b *budget) withdraw() bool {
	d := b.since()
	t := tickOf(d)
	open := b.open()
	var probe int64
	if !open {
		if probe = b.nextProbe.Load(); d < time.Duration(probe) {
			return false
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &b.slots[t%budgetSlots]
	b.reuse(s, t)
	if !b.fits(b.count(t)) {
		return false // before taking the probe: a refusal costs nothing
	}
	// The probe is taken only with the retry, and only once: of two
	// withdrawals that both saw it due, the second fails here.
	if !open && !b.nextProbe.CompareAndSwap(probe, int64(d+gateProbeInterval)) {
		return false
	}
	s.retries.Add(1)
	return true
}

// observe records the outcome of an attempt of a unary call: ok unless it
// failed with a failure the method retries; retry if it was a retry rather
// than the call's first attempt.
func (b *budget) observe(ok, retry bool) {
	if !ok && !retry {
		return // a first attempt's failure says nothing of a retry's fate
	}
	x := 0.0
	if ok {
		x = 1
	}
	for {
		old := b.score.Load()
		s := math.Float64frombits(old)
		n := (1-gateWeight)*s + gateWeight*x
		if math.Float64bits(n) == old {
			// At 1 (all well) the score stays put: no write, so that the
			// calls of a healthy service do not contend on it.
			return
		}
		if s >= gateThreshold && n < gateThreshold {
			// The gate is closing. The probe interval starts first, so
			// that no withdrawal can see the gate closed and a probe due
			// at once. If the swap fails, the start was early and harmless:
			// until the gate closes, no probe is needed, and when it does
			// the interval starts again, later.
			b.startProbeInterval()
		}
		if b.score.CompareAndSwap(old, math.Float64bits(n)) {
			return
		}
	}
}

// startProbeInterval makes the next probe due gateProbeInterval from now,
// unless it is due later already.
func (b *budget) startProbeInterval() {
	next := int64(b.since() + gateProbeInterval)
	for {
		p := b.nextProbe.Load()
		if p >= next || b.nextProbe.CompareAndSwap(p, next) {
			return
		}
	}
}

// budgetKey identifies a budget shared by the references of a service in
// the process: by the service (interface, group and version) and by the
// budget's parameters, so that references that declare different budgets
// do not enforce each other's.
type budgetKey struct {
	service string
	Budget
}

// budgets holds the budgets of the process. Entries are never removed: a
// process has one per service and budget it calls.
var budgets sync.Map // budgetKey → *budget

// sharedBudget returns the budget b of service in this process.
func sharedBudget(service string, b Budget) *budget {
	k := budgetKey{service, b}
	if v, ok := budgets.Load(k); ok {
		return v.(*budget)
	}
	v, _ := budgets.LoadOrStore(k, newBudget(b, time.Now))
	return v.(*budget)
}
