package dubboretry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/cluster/directory/static"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
)

// logRig is a failureLog on a fake clock, whose flushes the test runs, and
// the lines it wrote.
type logRig struct {
	clock *fakeClock
	mu    sync.Mutex
	lines []string
	times []time.Time // when each line was written
	due   time.Time   // when the pending flush is due; zero: none
	l     *failureLog
}

func newLogRig() *logRig {
	r := &logRig{clock: newFakeClock()}
	r.l = newFailureLog("e2e.v1.BudgetService", r.clock.now, r.schedule, r.logf)
	return r
}

func (r *logRig) schedule(_ *failureLog, d time.Duration) {
	r.due = r.clock.now().Add(d) // under l.mu
}

func (r *logRig) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
	r.times = append(r.times, r.clock.now())
}

// advance moves the clock by d, and runs the pending flush if it is due
// then, as its timer would.
func (r *logRig) advance(d time.Duration) {
	r.clock.advance(d)
	r.l.mu.Lock()
	due := r.due
	fire := !due.IsZero() && !r.clock.now().Before(due)
	if fire {
		r.due = time.Time{}
	}
	r.l.mu.Unlock()
	if fire {
		r.l.flush()
	}
}

func (r *logRig) written() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// checkWritten fails t unless the lines written so far are want.
func (r *logRig) checkWritten(t *testing.T, want ...string) {
	t.Helper()
	if got := r.written(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// failed returns the calls that line says failed.
func failedIn(t *testing.T, line string) int {
	t.Helper()
	var n int
	_, after, ok := strings.Cut(line, "service=e2e.v1.BudgetService: ")
	if !ok {
		t.Fatalf("line %q names no service", line)
	}
	if _, err := fmt.Sscanf(after, "%d call", &n); err != nil {
		return 0
	}
	return n
}

var outageErr = triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("attempt fails\nhere"))

// An outage of 300 failed calls, one every 10 ms: one line at once, then at
// most one a second, each counting the calls since the one before; the
// last line comes from the flush when the outage is over. Every call is
// counted once.
func TestFailureLogSummarises(t *testing.T) {
	r := newLogRig()
	const calls = 300
	for i := range calls {
		r.l.failedCall(failure{method: "Declared", why: "retries exhausted", retries: 3, attempts: 4, err: outageErr}, 0)
		if i < calls-1 {
			r.advance(10 * time.Millisecond)
		}
	}
	r.advance(2 * time.Second) // the flush of the last interval
	lines := r.written()
	total := 0
	for i, line := range lines {
		total += failedIn(t, line)
		if i > 0 && r.times[i].Sub(r.times[i-1]) < time.Second {
			t.Errorf("lines %d and %d are %v apart, want a second at least", i, i+1, r.times[i].Sub(r.times[i-1]))
		}
		if !strings.Contains(line, "method=Declared, retries exhausted after 4 attempts (retries=3): unavailable: attempt fails here") {
			t.Errorf("line %q does not say the last failure on one line", line)
		}
	}
	// 2.99 s of outage: at 0, 1, 2 s and the flush at 3 s.
	if len(lines) != 4 || total != calls {
		t.Errorf("%d lines counting %d calls, want 4 counting %d:\n%s", len(lines), total, calls, strings.Join(lines, "\n"))
	}
	if want := "[Cluster][dubboretry] service=e2e.v1.BudgetService: 1 call failed; it: method=Declared"; !strings.HasPrefix(lines[0], want) {
		t.Errorf("the first line %q, want it to start with %q", lines[0], want)
	}
	// The flush at 1 s runs before the call then fails.
	if want := "[Cluster][dubboretry] service=e2e.v1.BudgetService: 99 calls failed since the last line, 1s ago; the last: method=Declared"; !strings.HasPrefix(lines[1], want) {
		t.Errorf("the second line %q, want it to start with %q", lines[1], want)
	}
	// Quiet: nothing more, and the next failure is written at once.
	r.advance(10 * time.Second)
	if n := len(r.written()); n != 4 {
		t.Errorf("%d lines after a quiet interval, want 4", n)
	}
	r.l.failedCall(failure{method: "Declared", why: "retries exhausted", retries: 3, attempts: 4, err: outageErr}, 0)
	if n := len(r.written()); n != 5 {
		t.Errorf("the first failure after a quiet interval was not written at once")
	}
}

// Refusals are counted in the same line, with the failures or alone.
func TestFailureLogRefusals(t *testing.T) {
	r := newLogRig()
	r.l.refusedRetries(2)
	r.advance(100 * time.Millisecond)
	r.l.failedCall(failure{method: "Declared", why: whyBudget, retries: 3, attempts: 1, err: outageErr}, 1)
	r.l.failedCall(failure{method: "Declared", why: whyBudget, retries: 3, attempts: 1, err: outageErr}, 1)
	r.advance(time.Second)
	r.checkWritten(t,
		"[Cluster][dubboretry] service=e2e.v1.BudgetService: 2 retries refused by the budget",
		"[Cluster][dubboretry] service=e2e.v1.BudgetService: 2 calls failed since the last line, 1.1s ago (2 retries refused by the budget); the last: method=Declared, retry budget exhausted after 1 attempt (retries=3): unavailable: attempt fails here",
	)
}

// A failed call that is not written costs no allocation.
func TestFailureLogNoAllocation(t *testing.T) {
	r := newLogRig()
	f := failure{method: "Declared", why: "retries exhausted", retries: 3, attempts: 4, err: outageErr}
	r.l.failedCall(f, 0) // written; the next ones wait
	if allocs := testing.AllocsPerRun(1000, func() { r.l.failedCall(f, 1) }); allocs != 0 {
		t.Errorf("a failed call that is not written allocates %v times", allocs)
	}
	if n := len(r.written()); n != 1 {
		t.Fatalf("%d lines, want 1", n)
	}
}

// The real schedule writes the held-back line when the interval ends.
func TestFailureLogTimer(t *testing.T) {
	lines := make(chan string, 4)
	l := newFailureLog("s", nil, nil, func(format string, args ...any) { lines <- fmt.Sprintf(format, args...) })
	for range 3 {
		l.failedCall(failure{method: "M", why: "retries exhausted", retries: 1, attempts: 2, err: outageErr}, 0)
	}
	for i, want := range []string{"1 call failed", "2 calls failed"} {
		select {
		case line := <-lines:
			if !strings.Contains(line, want) {
				t.Errorf("line %d: %q, want %q", i+1, line, want)
			}
		case <-time.After(30 * time.Second): // a bound, not a measurement
			t.Fatalf("line %d was not written", i+1)
		}
	}
}

// clusterLogRig is a service of policyOnUnavailable (3 retries of
// UNAVAILABLE) and Never (0 retries), over one provider that fails every
// attempt with UNAVAILABLE, logging into a logRig, with budget bg (nil:
// none).
func clusterLogRig(t *testing.T, bg *budget) (*fakeCluster, *logRig) {
	t.Helper()
	r := newLogRig()
	svc := &Service{Methods: append([]Method{{Name: "Never", RetriesFrom: ProtoMethod}}, policyOnUnavailable.Methods...)}
	opts := []client.ReferenceOption{protoPolicy(svc)}
	if bg != nil {
		opts = append(opts, WithBudget(1, 0)) // bg stands for it
	}
	params := paramsOf(t, 3, opts...)
	params.Set(constant.InterfaceKey, "e2e.v1.BudgetService")
	fc := newFakeCluster(t, params, bg, nil, always(tripleErr(triple_protocol.CodeUnavailable)))
	e := fc.env
	e.now, e.logSchedule, e.logf = r.clock.now, r.schedule, r.logf
	fc.invoker = newInvoker(static.NewDirectory([]protocolbase.Invoker{fc.providers[0]}), e)
	r.l = fc.log
	return fc, r
}

// The cluster logs the calls that failed after their retries, summarised;
// nothing for a call that was never going to retry: a method with 0
// retries, or a call with client.WithCallRetries(0).
func TestClusterLog(t *testing.T) {
	fc, r := clusterLogRig(t, nil)
	ctx := context.Background()
	for range 5 {
		fc.call(ctx, "Never", nil)
		fc.call(ctx, "Declared", map[string]any{constant.RetriesKey: "0"})
	}
	r.advance(5 * time.Second)
	if lines := r.written(); len(lines) != 0 {
		t.Fatalf("calls without retries logged:\n%s", strings.Join(lines, "\n"))
	}
	for range 11 {
		fc.call(ctx, "Declared", nil)
	}
	r.advance(time.Second)
	r.checkWritten(t,
		"[Cluster][dubboretry] service=e2e.v1.BudgetService: 1 call failed; it: method=Declared, retries exhausted after 4 attempts (retries=3): unavailable: fails",
		"[Cluster][dubboretry] service=e2e.v1.BudgetService: 10 calls failed since the last line, 1s ago; the last: method=Declared, retries exhausted after 4 attempts (retries=3): unavailable: fails",
	)
}

// The budget's refusals are in the line, not a line each.
func TestClusterLogBudget(t *testing.T) {
	clock := newFakeClock()
	// Ratio 0.1, no reserve: the first ten calls get no retry.
	fc, r := clusterLogRig(t, newBudget(Budget{Ratio: 0.1}, clock.now))
	for range 5 {
		fc.call(context.Background(), "Declared", nil)
	}
	r.advance(time.Second)
	r.checkWritten(t,
		"[Cluster][dubboretry] service=e2e.v1.BudgetService: 1 call failed (1 retry refused by the budget); it: method=Declared, retry budget exhausted after 1 attempt (retries=3): unavailable: fails",
		"[Cluster][dubboretry] service=e2e.v1.BudgetService: 4 calls failed since the last line, 1s ago (4 retries refused by the budget); the last: method=Declared, retry budget exhausted after 1 attempt (retries=3): unavailable: fails",
	)
}
