package dubboretry

import (
	"context"
	"fmt"
	"strconv"
	"time"

	clusterpkg "dubbo.apache.org/dubbo-go/v3/cluster/cluster"
	"dubbo.apache.org/dubbo-go/v3/cluster/cluster/base"
	"dubbo.apache.org/dubbo-go/v3/cluster/directory"
	"dubbo.apache.org/dubbo-go/v3/cluster/loadbalance"
	"dubbo.apache.org/dubbo-go/v3/common"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/common/extension"
	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/result"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"github.com/dubbogo/gost/log/logger"
)

// ClusterName is the name of the cluster this package registers with
// dubbo-go: failover, with the policy of the service enforced. The options
// of this package select it for the service they are given to.
const ClusterName = "dubboretry"

func init() {
	extension.SetCluster(ClusterName, func() clusterpkg.Cluster { return retryCluster{} })
}

type retryCluster struct{}

// Join returns the cluster invoker of a service, wrapped in dubbo-go's
// cluster interceptors as failover's is.
func (retryCluster) Join(dir directory.Directory) protocolbase.Invoker {
	return clusterpkg.BuildInterceptorChain(newInvoker(dir, env{}))
}

// env is what an invoker takes from its surroundings; tests replace its
// parts, and the zero env is the real one.
type env struct {
	// budget returns the budget b of service; nil: the process's shared one.
	budget func(service string, b Budget) *budget
	// sleep waits between attempts; nil: a timer.
	sleep func(context.Context, time.Duration) bool
	// jitter draws from [0, 1); nil: math/rand/v2, or the seed's sequence.
	jitter func() float64
	// now reads the clock; nil: time.Now.
	now func() time.Time
	// after returns a channel that receives when d has passed, and a
	// function that stops it; nil: a timer. Hedging waits on it.
	after func(d time.Duration) (<-chan time.Time, func())
	// noMetrics records no metrics, for the tests that compare the cost
	// of recording them with the global no-op provider to none.
	noMetrics bool
	// logf writes the log's lines; nil: dubbo-go's logger, at Warn level.
	logf func(format string, args ...any)
	// logSchedule makes the log flush after d; nil: a timer. The log reads
	// the clock now.
	logSchedule func(l *failureLog, d time.Duration)
}

// invoker is the cluster invoker of one service: failover's, with the
// service's table.
type invoker struct {
	base.BaseClusterInvoker
	// err, if set, fails every call: the policy parameters could not be
	// read. Only this package's options write them, so this takes a
	// parameter written by hand.
	err     error
	service string // the service key, for messages
	metrics *serviceMetrics
	log     *failureLog
	table   *table
	budget  *budget
	sleep   func(context.Context, time.Duration) bool
	jitter  func() float64
	now     func() time.Time
	after   func(time.Duration) (<-chan time.Time, func())
}

// newInvoker reads the policy of the service of dir, once.
func newInvoker(dir directory.Directory, e env) *invoker {
	c := &invoker{BaseClusterInvoker: base.NewBaseClusterInvoker(dir), sleep: e.sleep, jitter: e.jitter, now: e.now, after: e.after}
	u := policyURL(dir.GetURL())
	if u != nil {
		c.service = u.ServiceKey()
	}
	t, err := sharedTable(u, c.service)
	if err != nil {
		c.err = fmt.Errorf("dubboretry: the retry policy of service %s: %v", c.service, err)
		// Warn: dubbo-go's default logger adds a stack trace to an Error.
		logger.Warnf("[Cluster][dubboretry] %v", c.err)
		return c
	}
	c.table = t
	if !e.noMetrics {
		c.metrics = newServiceMetrics(u)
	}
	var name string
	if u != nil {
		name = u.Service()
	}
	c.log = newFailureLog(name, e.now, e.logSchedule, e.logf)
	if t.budget != nil {
		if e.budget == nil {
			e.budget = sharedBudget
		}
		c.budget = e.budget(c.service, *t.budget)
	}
	if c.sleep == nil {
		c.sleep = sleep
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.after == nil {
		c.after = after
	}
	if c.jitter == nil {
		c.jitter = globalJitter
		if t.seed != nil {
			c.jitter = seededJitter(*t.seed)
		}
	}
	return c
}

// charge takes from the budget bg (nil: none) what an attempt about to be
// sent costs: a first attempt deposits, a retry (or hedged copy)
// withdraws. It reports whether the attempt may be sent; m records a
// retry the budget refused.
func charge(ctx context.Context, bg *budget, retry bool, m *methodMetrics) bool {
	switch {
	case bg == nil:
	case !retry:
		bg.deposit()
	case !bg.withdraw():
		m.budgetRefused(ctx)
		return false
	}
	return true
}

// failover is the rule of calls the policy does not cover (streams): what
// failover does.
var failover = new(rule)

// Invoke makes the call: a stream as failover makes it, a unary call with
// the policy of its method.
func (c *invoker) Invoke(ctx context.Context, inv protocolbase.Invocation) result.Result {
	if c.err != nil {
		return &result.RPCResult{Err: c.err}
	}
	if ct, ok := inv.GetAttribute(constant.CallTypeKey); ok && ct != constant.CallUnary {
		return c.invokeStream(ctx, inv)
	}
	return c.invokeUnary(ctx, inv)
}

// invokeUnary is failover's loop (a retry goes to a provider not yet
// tried, sticky as configured), with the method's rule deciding how many
// attempts there are, how long each may take, which failures are retried
// and how long to wait first, and the service's budget whether a retry may
// be sent at all.
//
// Where no provider is listed, the call counts an attempt that was not sent
// and failed with UNAVAILABLE, and retries it as such: a registry that
// restarts, or a rolling deploy, leaves the list empty for a moment. No
// budget is charged for it, as nothing is sent; the call ends with the last
// attempt sent's error, or with UNAVAILABLE if none was.
func (c *invoker) invokeUnary(ctx context.Context, inv protocolbase.Invocation) result.Result {
	method := inv.ActualMethodName()
	r, bg := c.table.rule(method), c.budget
	rec := startCall(c.metrics.method(method))
	defer rec.end(ctx)
	invokers := c.Directory.List(inv)
	if r.hedging.MaxAttempts > 0 && len(invokers) > 0 {
		return c.invokeHedged(ctx, inv, method, r, invokers, &rec)
	}
	// The URL of a provider tells the retries and timeout where no layer
	// does: read again when the first provider is listed.
	retries := getRetries(invokers, method, inv, r)
	var limit time.Duration
	listed := len(invokers) > 0
	if listed {
		limit = attemptLimit(invokers, method, inv, r)
	}

	var (
		res     result.Result // of the last attempt sent
		unsent  error         // why the last attempt could not be sent, if it could not
		invoked []protocolbase.Invoker
		lb      loadbalance.LoadBalance
	)
	for i := 0; i <= retries; i++ {
		if i > 0 {
			if why := c.await(ctx, r, bg, i, &rec); why != "" {
				return c.end(method, retries, len(invoked), why, res, unsent)
			}
			if err := c.CheckWhetherDestroyed(); err != nil {
				return &result.RPCResult{Err: err}
			}
			invokers = c.Directory.List(inv)
		}
		if len(invokers) == 0 {
			unsent = triple_protocol.NewError(triple_protocol.CodeUnavailable,
				fmt.Errorf("no provider of %s is available for %s", c.service, method))
			if !r.retryable(unsent) {
				return c.end(method, retries, len(invoked), "no provider", res, unsent)
			}
			continue
		}
		if !listed {
			listed = true
			retries = getRetries(invokers, method, inv, r)
			limit = attemptLimit(invokers, method, inv, r)
		}
		if lb == nil {
			lb = base.GetLoadBalance(invokers[0], method)
		}
		ivk := c.DoSelect(lb, inv, invokers, invoked)
		if ivk == nil {
			continue
		}
		retry := len(invoked) > 0
		if !charge(ctx, bg, retry, rec.m) {
			return c.end(method, retries, len(invoked), whyBudget, res, nil)
		}
		invoked = append(invoked, ivk)
		unsent = nil
		rec.attempts++
		res = attempt(ctx, ivk, inv, limit, rec.m)
		err := res.Error()
		done := err == nil || !r.retryable(err)
		if bg != nil && ctx.Err() == nil {
			// An attempt the caller's own deadline or cancel cut says
			// nothing about the service.
			bg.observe(done, retry)
		}
		if done {
			return res
		}
	}
	return c.end(method, retries, len(invoked), "retries exhausted", res, unsent)
}

// end ends a unary call that failed: with the last attempt sent's result,
// or, if none was sent, an UNAVAILABLE error saying why (unsent).
func (c *invoker) end(method string, retries, attempts int, why string, res result.Result, unsent error) result.Result {
	if res == nil {
		res = &result.RPCResult{Err: unsent}
	}
	refused := 0
	if why == whyBudget {
		refused = 1
	}
	c.logFailure(method, retries, attempts, why, res, refused)
	return res
}

// whyBudget is why a call ends when the budget refuses its retry.
const whyBudget = "retry budget exhausted"

// await decides whether retry n (n = 1, 2, ...) of a failed unary call is
// made, and waits for its delay, which it adds to rec. It returns why not,
// or "".
//
// A call whose context has ended makes no retry (failover would make them
// all, each failing at once). The budget is asked before the delay, so that
// a refused retry ends the call at once, and charged only when the retry
// is sent. A delay that would end after the caller's deadline is not
// waited: the call ends at once. A delay the context cuts short ends the
// call then.
func (c *invoker) await(ctx context.Context, r *rule, bg *budget, n int, rec *callRecord) string {
	if ctx.Err() != nil {
		return "context ended"
	}
	if bg != nil && !bg.allows() {
		rec.m.budgetRefused(ctx)
		return whyBudget
	}
	if r.backoff.Initial <= 0 {
		return ""
	}
	d := r.backoff.Delay(n, c.jitter())
	if d <= 0 {
		return ""
	}
	if deadline, ok := ctx.Deadline(); ok && !c.now().Add(d).Before(deadline) {
		return "the backoff delay ends after the caller's deadline"
	}
	start := c.now()
	if !c.sleep(ctx, d) {
		rec.waited += min(d, c.now().Sub(start))
		return "context ended during backoff"
	}
	rec.waited += d
	return ""
}

// invokeStream opens a stream as failover does: streams have no policy.
func (c *invoker) invokeStream(ctx context.Context, inv protocolbase.Invocation) result.Result {
	invokers := c.Directory.List(inv)
	if err := c.CheckInvokers(invokers, inv); err != nil {
		return &result.RPCResult{Err: err}
	}
	method := inv.ActualMethodName()
	retries := getRetries(invokers, method, inv, failover)
	lb := base.GetLoadBalance(invokers[0], method)
	var (
		res     result.Result
		invoked []protocolbase.Invoker
	)
	for i := 0; i <= retries; i++ {
		if i > 0 {
			if err := c.CheckWhetherDestroyed(); err != nil {
				return &result.RPCResult{Err: err}
			}
			invokers = c.Directory.List(inv)
			if err := c.CheckInvokers(invokers, inv); err != nil {
				return &result.RPCResult{Err: err}
			}
		}
		ivk := c.DoSelect(lb, inv, invokers, invoked)
		if ivk == nil {
			continue
		}
		invoked = append(invoked, ivk)
		res = ivk.Invoke(ctx, inv)
		if err := res.Error(); err == nil || isBizError(err) {
			return res
		}
	}
	if res == nil {
		return &result.RPCResult{Err: fmt.Errorf("no provider of %s could be selected for %s", c.GetURL().Service(), method)}
	}
	return res
}

// logFailure reports a call that failed after retries (or hedged copies)
// of which attempts were sent, and refused retries the budget refused, to
// the service's log. A call that was never going to retry is not logged.
func (c *invoker) logFailure(method string, retries, attempts int, why string, res result.Result, refused int) {
	if retries <= 0 {
		return
	}
	c.log.failedCall(failure{method: method, why: why, retries: retries, attempts: attempts, err: res.Error()}, refused)
}

// getRetries returns the retries of a call: the call's
// (client.WithCallRetries), else the method's as Dial resolved them (layers
// 1 to 3), else failover's rule on the URL: the method's (methods.M.retries)
// > the service's > dubbo-go's 2.
func getRetries(invokers []protocolbase.Invoker, methodName string, inv protocolbase.Invocation, r *rule) int {
	if retries, ok := inv.GetAttachment(constant.RetriesKey); ok {
		if n, err := strconv.Atoi(retries); err == nil {
			return n
		}
	}
	if r.retriesSet {
		return r.retries
	}
	if len(invokers) == 0 {
		return constant.DefaultRetriesInt
	}
	u := invokers[0].GetURL()
	retries := u.GetMethodParamIntValue(methodName, constant.RetriesKey,
		u.GetParamByIntValue(constant.RetriesKey, constant.DefaultRetriesInt))
	if retries < 0 {
		return constant.DefaultRetriesInt
	}
	return retries
}

// attemptLimit returns the limit of each attempt of a unary call: the
// call's timeout (client.WithCallRequestTimeout), else the method's as Dial
// resolved it (layers 2 and 3), else one a provider published
// (methods.M.timeout), else none: dubbo-go's Triple invoker then applies the
// client's, when the caller's context has no deadline.
//
// dubbo-go's invoker applies none of the first three: it overwrites the
// call's timeout with the client's, reads no method's, and applies none at
// all when the caller's context has a deadline.
func attemptLimit(invokers []protocolbase.Invoker, method string, inv protocolbase.Invocation, r *rule) time.Duration {
	if call, _ := inv.GetAttachment(constant.TimeoutKey); call != "" {
		if d, err := time.ParseDuration(call); err == nil && d > 0 {
			return d
		}
	}
	if r.timeout > 0 {
		return r.timeout
	}
	if published := invokers[0].GetURL().GetParam("methods."+method+"."+constant.TimeoutKey, ""); published != "" {
		if d, err := time.ParseDuration(published); err == nil && d > 0 {
			return d
		}
	}
	return 0
}

// attempt makes one attempt of a call on ivk, limited to limit if it is
// above 0: each attempt gets a full limit of its own, and the caller's
// deadline still bounds the whole call. m (nil: none) records it.
func attempt(ctx context.Context, ivk protocolbase.Invoker, inv protocolbase.Invocation, limit time.Duration, m *methodMetrics) result.Result {
	if m == nil {
		return limitedAttempt(ctx, ivk, inv, limit)
	}
	m.attemptStarted(ctx)
	start := time.Now()
	res := limitedAttempt(ctx, ivk, inv, limit)
	m.attemptEnded(ctx, time.Since(start), res.Error())
	return res
}

// limitedAttempt is attempt, unrecorded.
func limitedAttempt(ctx context.Context, ivk protocolbase.Invoker, inv protocolbase.Invocation, limit time.Duration) result.Result {
	if limit <= 0 {
		return ivk.Invoke(ctx, inv)
	}
	actx, cancel := context.WithTimeout(ctx, limit)
	defer cancel() // a unary reply is complete when Invoke returns
	res := ivk.Invoke(actx, inv)
	if err := res.Error(); err != nil && actx.Err() == context.DeadlineExceeded &&
		triple_protocol.CodeOf(err) != triple_protocol.CodeDeadlineExceeded {
		// The limit fired as the provider's answer arrived: dubbo-go then
		// reports what it made of the cut answer ("protocol error: incomplete
		// envelope", INVALID_ARGUMENT). The attempt was cut by its deadline,
		// and retry_on must see it as such.
		res.SetError(triple_protocol.NewError(triple_protocol.CodeDeadlineExceeded,
			fmt.Errorf("attempt cut at its limit of %v: %w", limit, err)))
	}
	return res
}

var _ common.Node = (*invoker)(nil)
