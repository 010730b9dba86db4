package dubboretry

import (
	"sync"
	"sync/atomic"
	"time"
)

// The window of a budget: budgetSlots slices of budgetSlot each, 10 s in
// all. The window slides a slice at a time: what was counted in a slice
// leaves the window 10 s after the slice began.
const (
	budgetSlots = 10
	budgetSlot  = time.Second
	// budgetWindowSeconds is the length of the window in seconds, by which
	// MinRetriesPerSecond is multiplied.
	budgetWindowSeconds = budgetSlots * budgetSlot / time.Second
)

// budget counts a service's first attempts and retries over a sliding
// window, and grants a retry while, with it, the retries in the window
// would number at most ratio × first attempts + reserve.
//
// A first attempt (deposit) costs a clock reading and an atomic add; a
// retry (withdraw) takes a mutex, so that two retries cannot both take the
// last one the budget allows.
type budget struct {
	ratio   float64
	reserve float64 // MinRetriesPerSecond × the window in seconds
	now     func() time.Time
	origin  time.Time // slice 0 began here

	mu    sync.Mutex // serialises withdrawals and the reuse of a slice
	slots [budgetSlots]slot
}

// slot counts one slice of the window: the slice number tick (from origin),
// which the slot holds until it is reused for tick + budgetSlots.
type slot struct {
	tick    atomic.Int64
	firsts  atomic.Int64
	retries atomic.Int64 // written under budget.mu only
}

func newBudget(b Budget, now func() time.Time) *budget {
	bg := &budget{
		ratio:   b.Ratio,
		reserve: float64(b.MinRetriesPerSecond) * float64(budgetWindowSeconds),
		now:     now,
		origin:  now(),
	}
	for i := range bg.slots {
		// No slot holds a slice yet: tick -budgetSlots is outside every window.
		bg.slots[i].tick.Store(-budgetSlots)
	}
	return bg
}

// tick returns the number of the current slice.
func (b *budget) tick() int64 {
	d := b.now().Sub(b.origin)
	if d < 0 {
		// A clock before the origin, which a monotonic one never gives.
		return 0
	}
	return int64(d / budgetSlot)
}

// current returns the slot of slice t, reused for it if it held an older
// slice.
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

// reuse makes s count slice t, if it counts an older one. b.mu is held.
func (b *budget) reuse(s *slot, t int64) {
	if s.tick.Load() < t {
		s.firsts.Store(0)
		s.retries.Store(0)
		s.tick.Store(t)
	}
}

// deposit counts a call's first attempt.
func (b *budget) deposit() {
	b.current(b.tick()).firsts.Add(1)
}

// withdraw reports whether a retry is allowed now, and counts it if so.
func (b *budget) withdraw() bool {
	t := b.tick()
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &b.slots[t%budgetSlots]
	b.reuse(s, t)
	var firsts, retries int64
	for i := range b.slots {
		w := &b.slots[i]
		if tick := w.tick.Load(); tick > t-budgetSlots && tick <= t {
			firsts += w.firsts.Load()
			retries += w.retries.Load()
		}
	}
	// The tolerance keeps a product such as 0.29 × 100 = 28.999999999999996
	// from refusing the retry that makes 29.
	if float64(retries+1) > b.ratio*float64(firsts)+b.reserve+1e-9 {
		return false
	}
	s.retries.Add(1)
	return true
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
