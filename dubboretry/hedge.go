package dubboretry

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"dubbo.apache.org/dubbo-go/v3/cluster/cluster/base"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/invocation"
	"dubbo.apache.org/dubbo-go/v3/protocol/result"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"google.golang.org/protobuf/proto"
)

// Hedging (docs/design.md, "Hedging"): a hedged unary call sends copies of
// itself to distinct providers, the next one when the copies before have
// not answered within the delay, or at once when one fails with a code the
// method retries, and takes the first success; the other copies are
// cancelled, and their providers see their contexts end. Each copy after
// the first is a retry for the budget. The caller's deadline bounds the
// whole call, and the method's per-attempt timeout each copy.
//
// Copies run at the same time, so each gets an invocation and a reply of
// its own: dubbo-go writes the attempt's timeout into the invocation, and
// the answer into the reply. The winner's reply is copied into the
// caller's.

// invokeHedged makes a hedged call of method with rule r, which rec
// records. invokers is the first listing, not empty.
func (c *invoker) invokeHedged(ctx context.Context, inv protocolbase.Invocation, method string, r *rule,
	invokers []protocolbase.Invoker, rec *callRecord) result.Result {
	bg, m := c.budget, rec.m
	refused := 0 // copies the budget refused
	// allows asks the budget for a copy before one is sent.
	allows := func() bool {
		if bg == nil || bg.allows() {
			return true
		}
		refused++
		m.budgetRefused(ctx)
		return false
	}
	copies := int(r.hedging.MaxAttempts)
	if n, ok := callRetries(inv); ok {
		// client.WithCallRetries(0) sends no extra copy.
		copies = min(copies, n+1)
	}
	limit := attemptLimit(invokers, method, inv, r)
	delay, byDelay := r.hedging.Delay, r.hedging.Delay > 0
	if !byDelay {
		delay, byDelay = r.latencies.delay()
	}
	lb := base.GetLoadBalance(invokers[0], method)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // the losers
	type answer struct {
		res   result.Result
		inv   *invocation.RPCInvocation
		retry bool
		took  time.Duration
	}
	answers := make(chan answer, copies)
	var (
		invoked []protocolbase.Invoker
		last    answer // the last answer received
		pending int    // copies sent whose answer has not come
	)
	send := func() bool {
		ivk := c.DoSelect(lb, inv, invokers, invoked)
		if ivk == nil || slices.Contains(invoked, ivk) {
			return false // copies go to distinct providers
		}
		retry := len(invoked) > 0
		if !charge(ctx, bg, retry, m) {
			refused++
			return false
		}
		invoked = append(invoked, ivk)
		rec.attempts++
		pending++
		copyInv := cloneInvocation(inv)
		go func() {
			start := time.Now()
			// A losing copy records its attempt when it ends, after the
			// call: cancelled, unless its answer was on its way.
			res := attempt(ctx, ivk, copyInv, limit, m)
			answers <- answer{res, copyInv, retry, time.Since(start)}
		}()
		return true
	}
	if !send() {
		return &result.RPCResult{Err: triple_protocol.NewError(triple_protocol.CodeUnavailable,
			fmt.Errorf("no provider of %s could be selected for %s", c.service, method))}
	}

	var (
		tick <-chan time.Time
		stop = func() {}
	)
	arm := func() {
		stop()
		tick, stop = nil, func() {}
		if byDelay && len(invoked) < copies {
			tick, stop = c.after(delay)
		}
	}
	arm()
	defer func() { stop() }()
	for pending > 0 {
		select {
		case a := <-answers:
			pending--
			last = a
			err := a.res.Error()
			done := err == nil || !r.retryable(err)
			if bg != nil && ctx.Err() == nil {
				bg.observe(done, a.retry)
			}
			if err == nil {
				r.latencies.record(a.took)
				copyReply(inv, a.inv)
				c.log.refusedRetries(refused)
				return a.res
			}
			if done {
				c.log.refusedRetries(refused)
				return a.res
			}
			// A failure the method retries sends the next copy at once.
			if ctx.Err() == nil && len(invoked) < copies && allows() && send() {
				arm()
			}
		case <-tick:
			if ctx.Err() == nil && allows() && send() {
				arm()
			} else {
				tick = nil // no more copies for want of an answer
			}
		}
	}
	c.logFailure(method, copies-1, len(invoked), "every copy failed", last.res, refused)
	return last.res
}

// after is a timer: it is how a hedged call waits for the next copy's time.
func after(d time.Duration) (<-chan time.Time, func()) {
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// callRetries returns the retries the call sets (client.WithCallRetries).
func callRetries(inv protocolbase.Invocation) (int, bool) {
	if v, ok := inv.GetAttachment(constant.RetriesKey); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n, true
		}
	}
	return 0, false
}

// cloneInvocation returns a copy of inv for one copy of a hedged call: its
// own attachments, reply and response metadata.
func cloneInvocation(inv protocolbase.Invocation) *invocation.RPCInvocation {
	reply := newReply(inv.Reply())
	raw := slices.Clone(inv.ParameterRawValues())
	if n := len(raw); n > 0 && reply != nil {
		raw[n-1] = reply // dubbo-go's unary call: the request, then the reply
	}
	c := invocation.NewRPCInvocationWithOptions(
		invocation.WithMethodName(inv.MethodName()),
		invocation.WithArguments(inv.Arguments()),
		invocation.WithReply(reply),
		invocation.WithParameterRawValues(raw),
		invocation.WithAttachments(maps.Clone(inv.Attachments())),
	)
	for k, v := range inv.Attributes() {
		switch k {
		case constant.ResponseHeaderKey, constant.ResponseTrailerKey:
			c.SetAttribute(k, new(http.Header))
		default:
			c.SetAttribute(k, v)
		}
	}
	return c
}

// newReply returns a new value of the type of reply, a pointer, or nil.
func newReply(reply any) any {
	t := reflect.TypeOf(reply)
	if t == nil || t.Kind() != reflect.Pointer {
		return nil
	}
	return reflect.New(t.Elem()).Interface()
}

// copyReply copies the reply and response metadata of the winning copy of
// a hedged call into the caller's invocation.
func copyReply(dst protocolbase.Invocation, src *invocation.RPCInvocation) {
	if to, from := dst.Reply(), src.Reply(); to != nil && from != nil {
		if m, ok := to.(proto.Message); ok {
			proto.Reset(m)
			proto.Merge(m, from.(proto.Message))
		} else {
			reflect.ValueOf(to).Elem().Set(reflect.ValueOf(from).Elem())
		}
	}
	for _, k := range []string{constant.ResponseHeaderKey, constant.ResponseTrailerKey} {
		to, _ := dst.GetAttribute(k)
		from, _ := src.GetAttribute(k)
		if to, ok := to.(*http.Header); ok && to != nil {
			if from, ok := from.(*http.Header); ok && from != nil {
				*to = from.Clone()
			}
		}
	}
}

// latencies records the latencies of the recent successful attempts of one
// method in this process, for an adaptive hedging delay: a percentile of
// the last latencyWindow. Recording takes an atomic add and store; every
// latencyRefresh records, the recording call works the percentile out again
// (a sort of latencyWindow values on its stack). Reading it takes an
// atomic load.
type latencies struct {
	percentile float64
	n          atomic.Uint64 // latencies recorded
	ring       [latencyWindow]atomic.Int64
	current    atomic.Int64 // the percentile's delay, once latencyMinimum are in
	refreshing sync.Mutex   // one refresh at a time
}

const (
	// latencyWindow is how many recent latencies the percentile is of.
	latencyWindow = 256
	// latencyMinimum is how many latencies it takes to know a percentile:
	// until then, a hedged method sends a copy only after a failure.
	latencyMinimum = 100
	// latencyRefresh is how often, in records, the percentile is worked
	// out again.
	latencyRefresh = 16
)

// record records a successful attempt that took d. l may be nil: the
// method's delay is not adaptive.
func (l *latencies) record(d time.Duration) {
	if l == nil {
		return
	}
	n := l.n.Add(1)
	l.ring[(n-1)%latencyWindow].Store(int64(d))
	if n >= latencyMinimum && n%latencyRefresh == 0 && l.refreshing.TryLock() {
		l.refresh(min(n, latencyWindow))
		l.refreshing.Unlock()
	}
}

// refresh works the percentile of the first count latencies of the ring
// out again.
func (l *latencies) refresh(count uint64) {
	var values [latencyWindow]int64
	for i := range count {
		values[i] = l.ring[i].Load()
	}
	sorted := values[:count]
	slices.Sort(sorted)
	// The nearest rank: the smallest value at or above p% of the values.
	rank := int(float64(count)*l.percentile/100+0.999999) - 1
	l.current.Store(sorted[max(0, min(rank, int(count)-1))])
}

// delay returns the adaptive delay, and whether the method has recorded
// enough latencies to know it.
func (l *latencies) delay() (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	d := l.current.Load()
	return time.Duration(d), d > 0
}

// latencyKey identifies the latencies of one method of a service, in the
// process, for one percentile.
type latencyKey struct {
	service, method string
	percentile      float64
}

// allLatencies holds the latencies of the process: per method, per process,
// as the budget is per service. It grows by one entry per method with an
// adaptive hedging delay, never per call.
var allLatencies sync.Map // latencyKey → *latencies

// sharedLatencies returns the latencies of method of service, for p.
func sharedLatencies(service, method string, p float64) *latencies {
	k := latencyKey{service, method, p}
	if v, ok := allLatencies.Load(k); ok {
		return v.(*latencies)
	}
	v, _ := allLatencies.LoadOrStore(k, &latencies{percentile: p})
	return v.(*latencies)
}
