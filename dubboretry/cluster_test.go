package dubboretry

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/cluster/directory/static"
	"dubbo.apache.org/dubbo-go/v3/common"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/common/extension"
	"dubbo.apache.org/dubbo-go/v3/global"
	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/invocation"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
)

// paramsOf returns the URL parameters that opts give a service, with
// retries for its methods.
func paramsOf(t testing.TB, retries int, opts ...client.ReferenceOption) url.Values {
	t.Helper()
	o := &client.ReferenceOptions{Reference: &global.ReferenceConfig{Cluster: constant.ClusterKeyFailover}}
	for _, opt := range opts {
		opt(o)
	}
	if o.Reference.Cluster != ClusterName {
		t.Fatalf("the options selected cluster %q, want %q", o.Reference.Cluster, ClusterName)
	}
	v := url.Values{constant.RetriesKey: {itoa(retries)}}
	for k, p := range o.Reference.Params {
		v.Set(k, p)
	}
	return v
}

func itoa(n int) string { return strconv.Itoa(n) }

// always fails every attempt with err.
func always(err error) func(int) error { return func(int) error { return err } }

// failFirst fails the first n attempts with err, then succeeds.
func failFirst(n int, err error) func(int) error {
	return func(k int) error {
		if k <= n {
			return err
		}
		return nil
	}
}

func tripleErr(c triple_protocol.Code) error {
	return triple_protocol.NewError(c, errors.New("fails"))
}

// bizErr is a business error as it reaches a client: a wire error with
// CodeBizError.
func bizErr() error {
	return triple_protocol.NewWireError(triple_protocol.CodeBizError, errors.New("business"))
}

var policyOnUnavailable = &Service{Methods: []Method{
	{Name: "Declared", RetryOn: []triple_protocol.Code{triple_protocol.CodeUnavailable}, RetryOnFrom: ProtoMethod},
}}

// retry_on: a listed code is retried up to the retries; any other code ends
// the call after one attempt, with that attempt's error.
func TestRetryOn(t *testing.T) {
	for _, tc := range []struct {
		name     string
		method   string
		err      error
		attempts int
	}{
		{"listed code", "Declared", tripleErr(triple_protocol.CodeUnavailable), 4},
		{"invalid argument", "Declared", tripleErr(triple_protocol.CodeInvalidArgument), 1},
		{"deadline exceeded", "Declared", tripleErr(triple_protocol.CodeDeadlineExceeded), 1},
		{"internal", "Declared", tripleErr(triple_protocol.CodeInternal), 1},
		{"business error", "Declared", bizErr(), 1},
		{"not a Triple error: never reached a handler", "Declared", errors.New("provider is closing"), 4},
		{"method without a policy: dubbo-go's rule", "Undeclared", tripleErr(triple_protocol.CodeInvalidArgument), 4},
		{"method without a policy, business error", "Undeclared", bizErr(), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeCluster(t, paramsOf(t, 3, protoPolicy(policyOnUnavailable)), nil, nil, always(tc.err))
			err := fc.call(context.Background(), tc.method, nil)
			if err != tc.err {
				t.Errorf("the call returned %v, want the attempt's error %v", err, tc.err)
			}
			if got := fc.attempts(); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
		})
	}
}

// A call that succeeds on a retry returns the success.
func TestRetryOnSucceedsWithinRetries(t *testing.T) {
	fc := newFakeCluster(t, paramsOf(t, 3, protoPolicy(policyOnUnavailable)), nil, nil,
		failFirst(2, tripleErr(triple_protocol.CodeUnavailable)))
	if err := fc.call(context.Background(), "Declared", nil); err != nil {
		t.Fatal(err)
	}
	if got := fc.attempts(); got != 3 {
		t.Errorf("%d attempts, want 3", got)
	}
}

// A retry goes to a provider not yet tried, as failover's does, until all
// have been tried.
func TestRetryGoesToAnotherProvider(t *testing.T) {
	unavailable := always(tripleErr(triple_protocol.CodeUnavailable))
	for range 20 {
		fc := newFakeCluster(t, paramsOf(t, 2, protoPolicy(policyOnUnavailable)), nil, nil, unavailable, unavailable, unavailable)
		fc.call(context.Background(), "Declared", nil)
		for i, p := range fc.providers {
			if p.count() != 1 {
				t.Fatalf("provider %d saw %d attempts of a call with 2 retries over 3 providers, want 1", i, p.count())
			}
		}
	}
}

// client.WithSticky holds: every call goes to the provider the first one
// went to.
func TestSticky(t *testing.T) {
	params := paramsOf(t, 2, protoPolicy(policyOnUnavailable))
	params.Set(constant.StickyKey, "true")
	fc := newFakeCluster(t, params, nil, nil, nil, nil, nil)
	for range 30 {
		if err := fc.call(context.Background(), "Declared", nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range fc.providers {
		if n := p.count(); n != 0 && n != 30 {
			t.Errorf("provider %d saw %d of 30 sticky calls, want all or none", i, n)
		}
	}
}

// client.WithCallRetries sets the call's retries, 0 turning retries off.
func TestCallRetries(t *testing.T) {
	for _, tc := range []struct {
		retries  string
		attempts int
	}{{"0", 1}, {"1", 2}, {"5", 6}} {
		fc := newFakeCluster(t, paramsOf(t, 3, protoPolicy(policyOnUnavailable)), nil, nil,
			always(tripleErr(triple_protocol.CodeUnavailable)))
		fc.call(context.Background(), "Declared", map[string]any{constant.RetriesKey: tc.retries})
		if got := fc.attempts(); got != tc.attempts {
			t.Errorf("WithCallRetries(%s): %d attempts, want %d", tc.retries, got, tc.attempts)
		}
	}
}

var policyWithBackoff = &Service{Methods: []Method{{
	Name:    "Declared",
	RetryOn: []triple_protocol.Code{triple_protocol.CodeUnavailable}, RetryOnFrom: ProtoMethod,
	Backoff: Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Multiplier: 3}, BackoffFrom: ProtoMethod,
}}}

// The delay before retry n is the draw × min(max, initial × multiplier^(n-1)).
func TestBackoffDelays(t *testing.T) {
	draws := []float64{0.5, 0.25, 1 - 1e-9, 0}
	fc := newFakeCluster(t, paramsOf(t, 4, protoPolicy(policyWithBackoff)), nil, draws,
		always(tripleErr(triple_protocol.CodeUnavailable)))
	fc.call(context.Background(), "Declared", nil)
	want := []time.Duration{5 * time.Millisecond, 7500 * time.Microsecond, 50*time.Millisecond - 1, 0}
	if !equal(fc.delays, want[:3]) {
		// The draw of 0 gives no delay, and no wait.
		t.Errorf("delays %v, want %v", fc.delays, want[:3])
	}
	if got := fc.attempts(); got != 5 {
		t.Errorf("%d attempts, want 5", got)
	}
}

func equal(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A context that ends during a delay ends the call with the last attempt's
// error, with no attempt after it.
func TestDeadlineInsideDelay(t *testing.T) {
	for cutAt := 1; cutAt <= 3; cutAt++ {
		last := 0
		fc := newFakeCluster(t, paramsOf(t, 4, protoPolicy(policyWithBackoff)), nil, []float64{0.5, 0.5, 0.5},
			func(n int) error {
				last = n
				return triple_protocol.NewError(triple_protocol.CodeUnavailable, errors.New("attempt "+itoa(n)))
			})
		fc.cut = func(n int, _ time.Duration) bool { return n == cutAt }
		err := fc.call(context.Background(), "Declared", nil)
		if got := fc.attempts(); got != cutAt {
			t.Errorf("context ends in delay %d: %d attempts, want %d", cutAt, got, cutAt)
		}
		if want := "unavailable: attempt " + itoa(last); err == nil || err.Error() != want {
			t.Errorf("context ends in delay %d: the call returned %v, want the last attempt's error %q", cutAt, err, want)
		}
	}
}

// The real wait ends when the context does, and reports it.
func TestSleepStopsAtContextEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if sleep(ctx, time.Hour) {
		t.Error("sleep waited an hour in an ended context, want it to return false at once")
	}
	if !sleep(context.Background(), 0) {
		t.Error("sleep(0) reported the context ended")
	}
}

// A call whose context ended makes no retry, even without a backoff.
func TestNoRetryAfterContextEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc := newFakeCluster(t, paramsOf(t, 3, protoPolicy(policyOnUnavailable)), nil, nil, func(int) error {
		cancel()
		return tripleErr(triple_protocol.CodeUnavailable)
	})
	if err := fc.call(ctx, "Declared", nil); triple_protocol.CodeOf(err) != triple_protocol.CodeUnavailable {
		t.Errorf("the call returned %v, want the attempt's error", err)
	}
	if got := fc.attempts(); got != 1 {
		t.Errorf("%d attempts, want 1", got)
	}
}

// A retry the budget refuses is not made: the call ends with its last
// error. Every call's first attempt deposits.
func TestBudgetRefusesRetries(t *testing.T) {
	clock := newFakeClock()
	bg := newBudget(Budget{Ratio: 0.5}, clock.now)
	p := &Service{Methods: policyOnUnavailable.Methods, Budget: Budget{Ratio: 0.5}, BudgetFrom: ProtoService}
	fc := newFakeCluster(t, paramsOf(t, 3, protoPolicy(p)), bg, nil, always(tripleErr(triple_protocol.CodeUnavailable)))
	// Call k deposits its first attempt, making k; the retries granted so
	// far can reach k/2.
	var perCall []int
	for range 8 {
		before := fc.attempts()
		err := fc.call(context.Background(), "Declared", nil)
		if triple_protocol.CodeOf(err) != triple_protocol.CodeUnavailable {
			t.Fatalf("the call returned %v, want unavailable", err)
		}
		perCall = append(perCall, fc.attempts()-before)
	}
	want := []int{1, 2, 1, 2, 1, 2, 1, 2}
	for i := range want {
		if perCall[i] != want[i] {
			t.Fatalf("attempts per call %v, want %v", perCall, want)
		}
	}
	// Other methods of the service share the budget: Undeclared has no
	// rule, and its retries are refused too.
	before := fc.attempts()
	fc.call(context.Background(), "Undeclared", nil)
	if got := fc.attempts() - before; got != 1 {
		t.Errorf("Undeclared: %d attempts with the budget spent, want 1", got)
	}
	// The window slides: 11 s later (the cap counts first attempts over
	// 11 s), the deposits and retries are gone.
	clock.advance(11 * time.Second)
	for i, want := range []int{1, 2} {
		before := fc.attempts()
		fc.call(context.Background(), "Declared", nil)
		if got := fc.attempts() - before; got != want {
			t.Errorf("after the window, call %d: %d attempts, want %d", i+1, got, want)
		}
	}
}

// Streams keep failover's rule: the policy is for unary calls, and they do
// not deposit.
func TestStreamsKeepFailover(t *testing.T) {
	clock := newFakeClock()
	bg := newBudget(Budget{Ratio: 1}, clock.now)
	p := &Service{Methods: policyOnUnavailable.Methods, Budget: Budget{Ratio: 1}, BudgetFrom: ProtoService}
	fc := newFakeCluster(t, paramsOf(t, 2, protoPolicy(p), WithRetryOn(triple_protocol.CodeUnavailable)), bg, nil,
		always(tripleErr(triple_protocol.CodeInvalidArgument)))
	inv := invocation.NewRPCInvocationWithOptions(invocation.WithMethodName("Bidi"))
	inv.SetAttribute(constant.CallTypeKey, constant.CallBidiStream)
	fc.Invoke(context.Background(), inv)
	if got := fc.attempts(); got != 3 {
		t.Errorf("a stream failing with a code not in retry_on made %d attempts, want failover's 3", got)
	}
	if bg.withdraw() {
		t.Error("the budget granted a retry: the stream deposited")
	}
}

// A policy parameter that cannot be read (only a hand-written one can be)
// fails every call with a clear error, rather than being ignored.
func TestBadParameterFailsCalls(t *testing.T) {
	fc := newFakeCluster(t, url.Values{paramOptions: {"s-retryon-teapot"}}, nil, nil, nil)
	err := fc.call(context.Background(), "Declared", nil)
	if err == nil || !strings.Contains(err.Error(), "dubboretry.options") {
		t.Errorf("the call returned %v, want an error naming the parameter", err)
	}
	if fc.attempts() != 0 {
		t.Errorf("%d attempts, want none", fc.attempts())
	}
}

// The cluster is registered under ClusterName, and joins a directory as
// dubbo-go joins failover's: behind its cluster interceptors.
func TestRegistered(t *testing.T) {
	cl, err := extension.GetCluster(ClusterName)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{url: serviceURL(t, 1, paramsOf(t, 2, protoPolicy(policyOnUnavailable))),
		fail: always(tripleErr(triple_protocol.CodeInvalidArgument))}
	inv := cl.Join(static.NewDirectory([]protocolbase.Invoker{p}))
	call := invocation.NewRPCInvocationWithOptions(invocation.WithMethodName("Declared"))
	call.SetAttribute(constant.CallTypeKey, constant.CallUnary)
	inv.Invoke(context.Background(), call)
	if p.count() != 1 {
		t.Errorf("%d attempts of a code retry_on does not list, want 1", p.count())
	}
}

// An invocation without a call type (the Dubbo protocol's, which are
// unary) gets the policy.
func TestNoCallTypeIsUnary(t *testing.T) {
	fc := newFakeCluster(t, paramsOf(t, 3, protoPolicy(policyOnUnavailable)), nil, nil,
		always(tripleErr(triple_protocol.CodeInvalidArgument)))
	fc.Invoke(context.Background(), invocation.NewRPCInvocationWithOptions(invocation.WithMethodName("Declared")))
	if got := fc.attempts(); got != 1 {
		t.Errorf("%d attempts, want 1", got)
	}
}

// With a registry, the cluster joins a directory whose URL is the
// registry's, the consumer's URL (and the policy) being its SubURL.
func TestPolicyURLOfRegistry(t *testing.T) {
	consumer := serviceURL(t, 1, paramsOf(t, 2, protoPolicy(policyOnUnavailable)))
	reg, err := common.NewURL("registry://127.0.0.1:2181/org.apache.dubbo.registry.RegistryService?registry=zookeeper")
	if err != nil {
		t.Fatal(err)
	}
	reg.SubURL = consumer
	if got := policyURL(reg); got != consumer {
		t.Errorf("policyURL of a registry URL: %v, want its SubURL", got)
	}
	if got := policyURL(consumer); got != consumer {
		t.Errorf("policyURL of a direct URL: %v, want itself", got)
	}
	tb, err := readTable(policyURL(reg))
	if err != nil {
		t.Fatal(err)
	}
	if r := tb.rule("Declared"); r.retryOn != setOf([]triple_protocol.Code{triple_protocol.CodeUnavailable}) {
		t.Errorf("Declared retries on %v, want unavailable", r.retryOn.codes())
	}
}

// The retries Dial resolved for a method beat what the URL says (a
// provider's, say), and lose to the call's.
func TestRetriesFromDial(t *testing.T) {
	params := paramsOf(t, 2, dialed("m.Declared-retries-1"), client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "5"}))
	for _, tc := range []struct {
		method      string
		attachments map[string]any
		want        int
	}{
		{"Declared", nil, 2},
		{"Declared", map[string]any{constant.RetriesKey: "0"}, 1},
		{"Undeclared", nil, 3}, // the URL's, dubbo-go's 2
	} {
		fc := newFakeCluster(t, params, nil, nil, always(tripleErr(triple_protocol.CodeUnavailable)))
		fc.call(context.Background(), tc.method, tc.attachments)
		if got := fc.attempts(); got != tc.want {
			t.Errorf("%s %v: %d attempts, want %d", tc.method, tc.attachments, got, tc.want)
		}
	}
}

// Each attempt gets its own deadline: the call's timeout, else the one Dial
// resolved for the method, else one a provider published; none otherwise.
func TestAttemptLimit(t *testing.T) {
	for _, tc := range []struct {
		name        string
		params      url.Values
		attachments map[string]any
		want        time.Duration // at least this far ahead; 0: no deadline
		below       time.Duration // and below this
	}{
		{"Dial's", paramsOf(t, 1, dialed("m.Declared-timeout-1h")), nil, 50 * time.Minute, 2 * time.Hour},
		{"the call's beats Dial's", paramsOf(t, 1, dialed("m.Declared-timeout-1h")),
			map[string]any{constant.TimeoutKey: "3h"}, 150 * time.Minute, 4 * time.Hour},
		{"a provider's", paramsOf(t, 1, dialed(""), client.WithParam("methods.Declared.timeout", "1h")), nil, 50 * time.Minute, 2 * time.Hour},
		{"Dial's beats a provider's", paramsOf(t, 1, dialed("m.Declared-timeout-3h"),
			client.WithParam("methods.Declared.timeout", "1h")), nil, 150 * time.Minute, 4 * time.Hour},
		{"none", paramsOf(t, 1, dialed("")), nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ahead time.Duration
			fc := newFakeCluster(t, tc.params, nil, nil)
			fc.providers = append(fc.providers, nil)
			p := &provider{url: serviceURL(t, 20000, tc.params), answer: func(ctx context.Context, _ protocolbase.Invocation, _ int) error {
				if d, ok := ctx.Deadline(); ok {
					ahead = time.Until(d)
				}
				return nil
			}}
			fc.invoker = newInvoker(static.NewDirectory([]protocolbase.Invoker{p}), env{})
			if err := fc.call(context.Background(), "Declared", tc.attachments); err != nil {
				t.Fatal(err)
			}
			if tc.want == 0 && ahead != 0 || tc.want != 0 && (ahead < tc.want || ahead > tc.below) {
				t.Errorf("the attempt's deadline was %v ahead, want between %v and %v", ahead, tc.want, tc.below)
			}
		})
	}
}

// An attempt cut by its limit fails with DEADLINE_EXCEEDED, whatever
// dubbo-go made of the cut answer (INVALID_ARGUMENT, "incomplete
// envelope"), and retry_on treats it as such: DEADLINE_EXCEEDED is retried
// where listed, and nothing else is.
func TestCutAttemptIsDeadlineExceeded(t *testing.T) {
	incomplete := func(ctx context.Context, _ protocolbase.Invocation, _ int) error {
		<-ctx.Done()
		return triple_protocol.NewError(triple_protocol.CodeInvalidArgument, errors.New("protocol error: incomplete envelope: context deadline exceeded"))
	}
	for _, tc := range []struct {
		retryOn string
		want    int
	}{{"deadline_exceeded", 3}, {"invalid_argument", 1}} {
		params := paramsOf(t, 2, dialed("m.Declared-timeout-1ms~m.Declared-retryon-"+tc.retryOn))
		fc := newFakeCluster(t, params, nil, nil)
		for i := range 3 {
			p := &provider{url: serviceURL(t, 20000+i, params), answer: incomplete}
			fc.providers = append(fc.providers, p)
		}
		fc.invoker = newInvoker(static.NewDirectory([]protocolbase.Invoker{fc.providers[0], fc.providers[1], fc.providers[2]}), env{})
		err := fc.call(context.Background(), "Declared", nil)
		if triple_protocol.CodeOf(err) != triple_protocol.CodeDeadlineExceeded {
			t.Errorf("retry on %s: the call failed with %v, want deadline_exceeded", tc.retryOn, err)
		}
		if got := fc.attempts(); got != tc.want {
			t.Errorf("retry on %s: %d attempts, want %d", tc.retryOn, got, tc.want)
		}
	}
}

// The budget is charged only for a retry that is sent. A delay that would
// end after the caller's deadline is not slept: the call ends at once, with
// the last attempt's error, and nothing is charged. The next call, without
// a deadline, still gets its retries.
func TestBudgetChargesOnlySentRetries(t *testing.T) {
	clock := newFakeClock()
	bg := newBudget(Budget{Ratio: 0.01, MinRetriesPerSecond: 1}, clock.now) // a reserve of 10
	svc := &Service{Methods: []Method{{Name: "Declared", RetryOn: []triple_protocol.Code{triple_protocol.CodeUnavailable}, RetryOnFrom: ProtoMethod,
		Backoff: Backoff{Initial: 2 * time.Second, Max: 2 * time.Second}, BackoffFrom: ProtoMethod}},
		Budget: Budget{Ratio: 0.01, MinRetriesPerSecond: 1}, BudgetFrom: ProtoService}
	draws := make([]float64, 20)
	for i := range draws {
		draws[i] = 0.99
	}
	fc := newFakeCluster(t, paramsOf(t, 3, protoPolicy(svc)), bg, draws, always(tripleErr(triple_protocol.CodeUnavailable)))
	for range 12 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		fc.env.now = func() time.Time { d, _ := ctx.Deadline(); return d.Add(-50 * time.Millisecond) }
		fc.invoker.now = fc.env.now
		err := fc.call(ctx, "Declared", nil)
		cancel()
		if triple_protocol.CodeOf(err) != triple_protocol.CodeUnavailable {
			t.Fatalf("the call ended with %v, want the attempt's unavailable", err)
		}
	}
	if fc.attempts() != 12 || len(fc.delays) != 0 {
		t.Errorf("12 calls whose delay ends past their deadline: %d attempts and %d delays slept, want 12 and 0", fc.attempts(), len(fc.delays))
	}
	fc.invoker.now = time.Now
	before := fc.attempts()
	fc.call(context.Background(), "Declared", nil)
	if got := fc.attempts() - before; got != 4 {
		t.Errorf("the next call made %d attempts, want 4: the budget paid for retries never sent", got)
	}
}

// Providers gone between attempts: the call retries the listing, as an
// attempt that failed with UNAVAILABLE and charges nothing, and ends with
// the last attempt's error, not dubbo-go's uncoded "No provider available".
func TestProvidersGoneBetweenAttempts(t *testing.T) {
	clock := newFakeClock()
	bg := newBudget(Budget{Ratio: 0.01, MinRetriesPerSecond: 1}, clock.now)
	svc := &Service{Methods: policyOnUnavailable.Methods, Budget: Budget{Ratio: 0.01, MinRetriesPerSecond: 1}, BudgetFrom: ProtoService}
	last := tripleErr(triple_protocol.CodeUnavailable)
	fc := newListingCluster(t, paramsOf(t, 3, protoPolicy(svc)), bg, func(n int, providers []protocolbase.Invoker) []protocolbase.Invoker {
		if n == 1 {
			return providers
		}
		return nil
	}, always(last))
	err := fc.call(context.Background(), "Declared", nil)
	if err != last {
		t.Errorf("the call ended with %v, want the last attempt's %v", err, last)
	}
	if fc.attempts() != 1 {
		t.Errorf("%d attempts, want 1", fc.attempts())
	}
	if _, retries := bg.count(tickOf(bg.since())); retries != 0 {
		t.Errorf("the budget was charged %d retries, for none sent", retries)
	}
}

// No provider is an attempt that failed with UNAVAILABLE: a call waits for
// providers to come back (a registry restart) within its retries, backoff
// and deadline, charging no budget; where retry_on does not list
// UNAVAILABLE, or the retries run out, the call fails with UNAVAILABLE.
func TestNoProviderIsUnavailable(t *testing.T) {
	comeBackAt := func(k int) func(int, []protocolbase.Invoker) []protocolbase.Invoker {
		return func(n int, providers []protocolbase.Invoker) []protocolbase.Invoker {
			if n < k {
				return nil
			}
			return providers
		}
	}
	for _, tc := range []struct {
		name     string
		policy   string
		back     int // the listing at which the provider is back
		attempts int
		code     triple_protocol.Code // 0: the call succeeds
	}{
		{"back at the third listing", "m.Declared-retries-3", 3, 1, 0},
		{"back too late", "m.Declared-retries-3", 5, 0, triple_protocol.CodeUnavailable},
		{"retry_on does not list unavailable", "m.Declared-retries-3~m.Declared-retryon-internal", 2, 0, triple_protocol.CodeUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := newListingCluster(t, paramsOf(t, 3, dialed(tc.policy)), nil, comeBackAt(tc.back), always(nil))
			err := fc.call(context.Background(), "Declared", nil)
			if got := triple_protocol.CodeOf(err); tc.code == 0 && err != nil || tc.code != 0 && got != tc.code {
				t.Errorf("the call ended with %v, want code %v", err, tc.code)
			}
			if fc.attempts() != tc.attempts {
				t.Errorf("%d attempts, want %d", fc.attempts(), tc.attempts)
			}
		})
	}
}

// An error without a Triple code is retried only where it can heal: a
// destroyed invoker, a closed client, a provider shutting down. Any other
// (an attachment the Triple invoker refuses, say) fails the call at once.
func TestUncodedErrors(t *testing.T) {
	for _, tc := range []struct {
		err      error
		attempts int
	}{
		{protocolbase.ErrDestroyedInvoker, 4},
		{protocolbase.ErrClientClosed, 4},
		{errors.New("provider is closing"), 4},
		{errors.New("triple attachments value with key = k is invalid, which should be string or []string"), 1},
		{errors.New("something else"), 1},
	} {
		fc := newFakeCluster(t, paramsOf(t, 3, protoPolicy(policyOnUnavailable)), nil, nil, always(tc.err))
		if err := fc.call(context.Background(), "Declared", nil); err != tc.err {
			t.Errorf("%v: the call ended with %v", tc.err, err)
		}
		if got := fc.attempts(); got != tc.attempts {
			t.Errorf("%v: %d attempts, want %d", tc.err, got, tc.attempts)
		}
	}
}

// The references of a service with one policy share one table, read once;
// another policy, seed or service gets its own, and a table with adaptive
// hedging carries the method's shared latencies when it is stored.
func TestSharedTable(t *testing.T) {
	read := func(service string, opts ...client.ReferenceOption) *table {
		t.Helper()
		tb, err := sharedTable(serviceURL(t, 1, paramsOf(t, 2, opts...)), service)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	a := read("s", WithRetryOn(triple_protocol.CodeUnavailable))
	if b := read("s", WithRetryOn(triple_protocol.CodeUnavailable)); b != a {
		t.Error("two references with one policy read it twice")
	}
	for name, other := range map[string]*table{
		"another policy":  read("s", WithRetryOn(triple_protocol.CodeAborted)),
		"a seed":          read("s", WithRetryOn(triple_protocol.CodeUnavailable), WithJitterSeed(1)),
		"another service": read("s2", WithRetryOn(triple_protocol.CodeUnavailable)),
	} {
		if other == a {
			t.Errorf("%s shares the table of the first", name)
		}
	}
	// Hedging reaches a table through Dial only.
	svc := &Service{Name: "e2e.v1.LayerService", Methods: []Method{{Name: "Declared", Idempotent: true,
		Hedging: Hedging{MaxAttempts: 2, DelayPercentile: 90}, HedgingFrom: ProtoMethod}}}
	hedged, err := sharedTable(serviceURL(t, 1, url.Values{paramProto: {dialedParam(t, svc)}}), "s")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hedged.rule("Declared").latencies, sharedLatencies("s", "Declared", 90); got == nil || got != want {
		t.Errorf("the stored table's latencies of Declared are %p, want the method's shared %p", got, want)
	}
}
