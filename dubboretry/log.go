package dubboretry

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dubbogo/gost/log/logger"
)

// The log (docs/design.md, "Observability"). The cluster logs through
// dubbo-go's logger (github.com/dubbogo/gost/log/logger), at Warn level:
// dubbo-go's default logger (gost's zap logger, before a dubbo.Instance
// configures one) adds a stack trace to every Error line, and none to
// Warn; the zap and logrus loggers a dubbo.Instance configures add none.
//
// A failed call is not a line of its own. Each service (each cluster
// invoker) has a failureLog that summarises its failed calls and its
// budget's refusals in at most one line per logInterval: the first
// failure after a quiet interval is written at once, and those that follow
// within the interval are counted and written in one line when it ends,
// with the last one's error. A call whose retries are 0 (a method that was
// never going to retry, or client.WithCallRetries(0)) is not logged: its
// error is the caller's to report, and the runtime did nothing.

// logInterval is the least time between two lines of one service.
const logInterval = time.Second

// failure is one failed call, as the log reports the last one.
type failure struct {
	method   string
	why      string // why the runtime stopped: "retries exhausted", ...
	retries  int    // the call's retries (or hedged copies after the first)
	attempts int    // the attempts it sent
	err      error
}

// failureLog summarises the failed calls of one service. A call that is
// not written costs a short critical section and a clock reading, and no
// allocation.
type failureLog struct {
	service  string
	interval time.Duration
	now      func() time.Time
	// schedule makes flush run after d; a flush is pending until it runs.
	schedule func(d time.Duration)
	logf     func(format string, args ...any)

	mu      sync.Mutex
	next    time.Time // no line before it
	prev    time.Time // when the last line was written; zero: none yet
	failed  int       // calls failed since the last line
	refused int       // retries the budget refused since the last line
	last    failure   // the last failed call
	pending bool      // a flush is scheduled
}

// newFailureLog returns the log of service, writing with logf (nil:
// dubbo-go's logger at Warn level) at most once per interval of the clock
// now (nil: time.Now). schedule (nil: a timer) runs the flush that writes
// what the last interval counted.
func newFailureLog(service string, now func() time.Time, schedule func(*failureLog, time.Duration), logf func(string, ...any)) *failureLog {
	l := &failureLog{service: service, interval: logInterval, now: now, logf: logf}
	if l.now == nil {
		l.now = time.Now
	}
	if l.logf == nil {
		l.logf = logger.Warnf
	}
	if schedule == nil {
		var t *time.Timer
		l.schedule = func(d time.Duration) {
			// Under l.mu: one timer, made on the first flush.
			if t == nil {
				t = time.AfterFunc(d, l.flush)
				return
			}
			t.Reset(d)
		}
	} else {
		l.schedule = func(d time.Duration) { schedule(l, d) }
	}
	return l
}

// failedCall counts a failed call, and the retries the budget refused it,
// and writes the line if one is due.
func (l *failureLog) failedCall(f failure, refused int) {
	if l == nil {
		return
	}
	l.mu.Lock()
	now := l.count(1, refused)
	l.last = f
	l.writeOrWait(now)
}

// refusedRetries counts n retries (or hedged copies) that the budget
// refused a call that did not fail.
func (l *failureLog) refusedRetries(n int) {
	if l == nil || n == 0 {
		return
	}
	l.mu.Lock()
	l.writeOrWait(l.count(0, n))
}

// count counts the events, and returns the time. l.mu is held.
func (l *failureLog) count(failed, refused int) time.Time {
	now := l.now()
	l.failed += failed
	l.refused += refused
	return now
}

// writeOrWait writes the line if it is due, or makes sure a flush will
// write it when it is. l.mu is held; it unlocks it.
func (l *failureLog) writeOrWait(now time.Time) {
	if now.Before(l.next) {
		if !l.pending {
			l.pending = true
			l.schedule(l.next.Sub(now))
		}
		l.mu.Unlock()
		return
	}
	l.write(now)
}

// flush writes what was counted since the last line, when its time has
// come: the line the interval held back.
func (l *failureLog) flush() {
	l.mu.Lock()
	l.pending = false
	if l.failed == 0 && l.refused == 0 {
		l.mu.Unlock()
		return
	}
	l.writeOrWait(l.now())
}

// write writes the line of what was counted, and starts the interval
// before the next. l.mu is held; it unlocks it, and formats and writes
// the line outside it.
func (l *failureLog) write(now time.Time) {
	failed, refused, last, prev := l.failed, l.refused, l.last, l.prev
	l.failed, l.refused, l.last = 0, 0, failure{}
	l.next, l.prev = now.Add(l.interval), now
	l.mu.Unlock()
	l.logf("%s", l.line(now, prev, failed, refused, last))
}

// line formats a line, such as
//
//	[Cluster][dubboretry] service=e2e.v1.BudgetService: 1 call failed; it: method=Declared, retries exhausted after 4 attempts (retries=3): unavailable: ...
//	[Cluster][dubboretry] service=e2e.v1.BudgetService: 287 calls failed since the last line, 1s ago (250 retries refused by the budget); the last: method=Declared, retry budget exhausted after 1 attempt (retries=3): unavailable: ...
//	[Cluster][dubboretry] service=e2e.v1.HedgeService: 3 retries refused by the budget since the last line, 1.2s ago
//
// prev is when the last line was written, if one was.
func (l *failureLog) line(now, prev time.Time, failed, refused int, last failure) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[Cluster][dubboretry] service=%s: ", l.service)
	since := ""
	if !prev.IsZero() {
		since = " since the last line, " + now.Sub(prev).Round(time.Millisecond).String() + " ago"
	}
	refusals := fmt.Sprintf("%d %s refused by the budget", refused, plural(refused, "retry", "retries"))
	if failed == 0 {
		b.WriteString(refusals + since)
		return b.String()
	}
	fmt.Fprintf(&b, "%d %s failed%s", failed, plural(failed, "call", "calls"), since)
	if refused > 0 {
		b.WriteString(" (" + refusals + ")")
	}
	what := "the last"
	if failed == 1 {
		what = "it"
	}
	fmt.Fprintf(&b, "; %s: method=%s, %s after %d %s (retries=%d): %s", what, last.method, last.why,
		last.attempts, plural(last.attempts, "attempt", "attempts"), last.retries, oneLine(last.err))
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// oneLine returns err's message on one line.
func oneLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}
