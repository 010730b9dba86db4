package dubboretry

import (
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

// Deposits and retries leave the window 10 s after the second they were
// counted in; until then they count.
func TestBudgetWindowSlides(t *testing.T) {
	clock := newFakeClock()
	b := newBudget(Budget{Ratio: 0.5}, clock.now)
	deposit(b, 10) // second 0
	if got := withdrawAll(b); got != 5 {
		t.Fatalf("%d granted, want 5", got)
	}
	clock.advance(9*time.Second + 999*time.Millisecond)
	deposit(b, 4) // second 9: 14 in the window, 5 retries
	if got := withdrawAll(b); got != 2 {
		t.Fatalf("second 9: %d granted, want 2", got)
	}
	clock.advance(time.Millisecond)
	// Second 10: second 0 (10 deposits, 5 retries) has left; second 9 (4
	// deposits, 2 retries) has not.
	if got := withdrawAll(b); got != 0 {
		t.Fatalf("second 10: %d granted, want 0", got)
	}
	deposit(b, 2)
	if got := withdrawAll(b); got != 1 {
		t.Fatalf("second 10, 2 more deposits: %d granted, want 1", got)
	}
	clock.advance(time.Hour)
	deposit(b, 2)
	if got := withdrawAll(b); got != 1 {
		t.Fatalf("an hour later: %d granted, want 1", got)
	}
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
