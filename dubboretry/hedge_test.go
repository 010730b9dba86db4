package dubboretry

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/cluster/directory/static"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/invocation"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// hedgeRig is a hedged method over fake providers, whose delays the test
// fires by hand.
type hedgeRig struct {
	*fakeCluster
	mu    sync.Mutex
	ticks []chan time.Time // one per delay the call waits, in order
	armed chan struct{}    // receives when a delay is armed
}

// newHedgeRig joins providers, one per answer function, for a service whose
// method Read the .proto hedges with h, retrying UNAVAILABLE.
func newHedgeRig(t *testing.T, h Hedging, bg *budget, answers ...func(ctx context.Context, inv protocolbase.Invocation, n int) error) *hedgeRig {
	t.Helper()
	svc := &Service{Name: "s", Methods: []Method{{Name: "Read", Idempotent: true,
		RetryOn: []triple_protocol.Code{triple_protocol.CodeUnavailable}, RetryOnFrom: ProtoMethod,
		Hedging: h, HedgingFrom: ProtoMethod}}}
	if bg != nil {
		// Any budget: bg stands for it.
		svc.Budget, svc.BudgetFrom = Budget{Ratio: 1}, ProtoService
	}
	params := paramsOf(t, 2, protoPolicy(svc))
	rig := &hedgeRig{fakeCluster: newFakeCluster(t, params, bg, nil), armed: make(chan struct{}, 16)}
	invokers := make([]protocolbase.Invoker, len(answers))
	for i, a := range answers {
		p := &provider{url: serviceURL(t, 21000+i, params), answer: a}
		rig.providers = append(rig.providers, p)
		invokers[i] = p
	}
	e := rig.env
	e.after = func(time.Duration) (<-chan time.Time, func()) {
		c := make(chan time.Time, 1)
		rig.mu.Lock()
		rig.ticks = append(rig.ticks, c)
		rig.mu.Unlock()
		rig.armed <- struct{}{}
		return c, func() {}
	}
	rig.invoker = newInvoker(static.NewDirectory(invokers), e)
	return rig
}

// fire fires the delay the call armed last, once it is armed.
func (r *hedgeRig) fire(t *testing.T) {
	t.Helper()
	select {
	case <-r.armed:
	case <-time.After(10 * time.Second): // a bound, not a measurement
		t.Fatal("no delay was armed")
	}
	r.mu.Lock()
	c := r.ticks[len(r.ticks)-1]
	r.mu.Unlock()
	c <- time.Time{}
}

// read calls Read with a reply of its own, and returns it.
func (r *hedgeRig) read(ctx context.Context, attachments map[string]any) (*wrapperspb.StringValue, error) {
	reply := new(wrapperspb.StringValue)
	inv := invocation.NewRPCInvocationWithOptions(
		invocation.WithMethodName("Read"),
		invocation.WithArguments([]any{"req"}),
		invocation.WithReply(reply),
		invocation.WithParameterRawValues([]any{"req", reply}),
		invocation.WithAttachments(attachments),
	)
	inv.SetAttribute(constant.CallTypeKey, constant.CallUnary)
	return reply, r.Invoke(ctx, inv).Error()
}

// slowUntilCancelled is a provider whose attempts wait for their context to
// end, and record that it did.
type slowUntilCancelled struct {
	cancelled chan struct{}
}

func (s *slowUntilCancelled) answer(ctx context.Context, _ protocolbase.Invocation, _ int) error {
	<-ctx.Done()
	close(s.cancelled)
	return ctx.Err()
}

// answers writes name into the reply.
func answers(name string) func(context.Context, protocolbase.Invocation, int) error {
	return func(_ context.Context, inv protocolbase.Invocation, _ int) error {
		inv.Reply().(*wrapperspb.StringValue).Value = name
		return nil
	}
}

// A copy that has not answered within the delay gets a second, on another
// provider; the first success wins, its reply is the caller's, and the
// other copy is cancelled: its provider sees its context end.
func TestHedgeOnDelay(t *testing.T) {
	// The call's first copy, on whichever provider it goes to, waits until
	// its context ends; the second answers.
	slow := &slowUntilCancelled{cancelled: make(chan struct{})}
	var mu sync.Mutex
	copies := 0
	answer := func(ctx context.Context, inv protocolbase.Invocation, n int) error {
		mu.Lock()
		copies++
		first := copies == 1
		mu.Unlock()
		if first {
			return slow.answer(ctx, inv, n)
		}
		return answers("fast")(ctx, inv, n)
	}
	rig := newHedgeRig(t, Hedging{MaxAttempts: 2, Delay: 20 * time.Millisecond}, nil, answer, answer)
	done := make(chan struct{})
	var reply *wrapperspb.StringValue
	var err error
	go func() {
		reply, err = rig.read(context.Background(), nil)
		close(done)
	}()
	rig.fire(t)
	<-done
	if err != nil || reply.GetValue() != "fast" {
		t.Fatalf("the call returned %q, %v; want the fast copy's reply", reply.GetValue(), err)
	}
	select {
	case <-slow.cancelled:
	case <-time.After(10 * time.Second): // a bound, not a measurement
		t.Fatal("the losing copy's provider did not see its context end")
	}
	if got := rig.attempts(); got != 2 {
		t.Errorf("%d attempts, want 2", got)
	}
	for i, p := range rig.providers {
		if p.count() != 1 {
			t.Errorf("provider %d saw %d copies, want 1: copies go to distinct providers", i, p.count())
		}
	}
}

// A copy that fails with a code the method retries sends the next at once,
// without waiting for the delay; any other failure ends the call.
func TestHedgeOnFailure(t *testing.T) {
	for _, tc := range []struct {
		code     triple_protocol.Code
		attempts int
		ok       bool
	}{{triple_protocol.CodeUnavailable, 2, true}, {triple_protocol.CodeInvalidArgument, 1, false}} {
		failOnce := func(_ context.Context, inv protocolbase.Invocation, n int) error {
			return triple_protocol.NewError(tc.code, fmt.Errorf("attempt %d", n))
		}
		// The call's first attempt fails, on whichever provider it goes to,
		// and the next answers.
		var once sync.Once
		first := func(name string) func(context.Context, protocolbase.Invocation, int) error {
			return func(ctx context.Context, inv protocolbase.Invocation, n int) error {
				failed := false
				once.Do(func() { failed = true })
				if failed {
					return failOnce(ctx, inv, n)
				}
				return answers(name)(ctx, inv, n)
			}
		}
		rig := newHedgeRig(t, Hedging{MaxAttempts: 3, Delay: time.Hour}, nil, first("a"), first("b"))
		_, err := rig.read(context.Background(), nil)
		if (err == nil) != tc.ok || rig.attempts() != tc.attempts {
			t.Errorf("first copy fails with %v: error %v and %d attempts; want success %v and %d", tc.code, err, rig.attempts(), tc.ok, tc.attempts)
		}
	}
}

// client.WithCallRetries(0) sends no extra copy; the budget refuses extra
// copies as it refuses retries, and nothing is charged for one not sent.
func TestHedgeLimits(t *testing.T) {
	unavailable := func(context.Context, protocolbase.Invocation, int) error {
		return triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("down"))
	}
	rig := newHedgeRig(t, Hedging{MaxAttempts: 3, Delay: time.Hour}, nil, unavailable, unavailable, unavailable)
	if _, err := rig.read(context.Background(), map[string]any{constant.RetriesKey: "0"}); err == nil || rig.attempts() != 1 {
		t.Errorf("WithCallRetries(0): error %v, %d attempts; want a failure and 1", err, rig.attempts())
	}
	if _, err := rig.read(context.Background(), nil); err == nil || rig.attempts() != 4 {
		t.Errorf("no limit: %d attempts in all, want 1 + 3", rig.attempts())
	}

	clock := newFakeClock()
	bg := newBudget(Budget{Ratio: 0.01, MinRetriesPerSecond: 0}, clock.now) // no reserve
	rig = newHedgeRig(t, Hedging{MaxAttempts: 3, Delay: time.Hour}, bg, unavailable, unavailable, unavailable)
	if _, err := rig.read(context.Background(), nil); err == nil || rig.attempts() != 1 {
		t.Errorf("a budget without a reserve: %d attempts, want 1: no copy beyond the budget", rig.attempts())
	}
	if _, retries := bg.count(tickOf(bg.since())); retries != 0 {
		t.Errorf("the budget counted %d retries, for none sent", retries)
	}
}

// An adaptive delay waits for latencyMinimum successful attempts of the
// method: until then a copy is sent only after a failure, never for want of
// an answer. Then it is the percentile of the recent latencies.
func TestAdaptiveDelay(t *testing.T) {
	l := &latencies{percentile: 95}
	if _, ok := l.delay(); ok {
		t.Fatal("a delay known with no latency recorded")
	}
	for i := 1; i < latencyMinimum; i++ {
		l.record(time.Duration(i) * time.Millisecond)
	}
	if _, ok := l.delay(); ok {
		t.Fatalf("a delay known after %d latencies, want %d first", latencyMinimum-1, latencyMinimum)
	}
	for i := latencyMinimum; i <= latencyWindow; i++ {
		l.record(time.Duration(i) * time.Millisecond)
	}
	// The last 256 latencies are 1ms to 256ms: the 95th percentile, by the
	// nearest rank, is the 244th, 244ms.
	if d, ok := l.delay(); !ok || d != 244*time.Millisecond {
		t.Errorf("delay %v, %v; want 244ms", d, ok)
	}
	// The window slides: 256 more latencies of 1s move it to 1s.
	for range latencyWindow {
		l.record(time.Second)
	}
	if d, _ := l.delay(); d != time.Second {
		t.Errorf("delay %v after a window of 1s latencies, want 1s", d)
	}

	// On the call path: before the minimum, no delay is armed. (The
	// latencies are the process's, per method: forget those of earlier
	// runs.)
	allLatencies.Clear()
	rig := newHedgeRig(t, Hedging{MaxAttempts: 2, DelayPercentile: 95}, nil, answers("a"), answers("b"))
	lat := rig.table.rule("Read").latencies
	if lat == nil {
		t.Fatal("the method has no latencies")
	}
	before := lat.n.Load()
	if _, err := rig.read(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if len(rig.armed) != 0 {
		t.Errorf("a delay was armed with no latency known")
	}
	if n := lat.n.Load(); n != before+1 {
		t.Errorf("%d latencies recorded by the call, want 1", n-before)
	}
}

// The latency record costs no allocation on the call path.
func TestLatencyRecordAllocs(t *testing.T) {
	l := &latencies{percentile: 99}
	if a := testing.AllocsPerRun(1000, func() { l.record(time.Millisecond) }); a != 0 {
		t.Errorf("record: %v allocations, want 0", a)
	}
}
