package e2e

import (
	"context"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// These tests walk the timeout column of the precedence table
// (docs/design.md, "Timeouts") on a real Triple server. The server
// (testbed.Slow) makes the first attempts of a call sleep for slowSleep,
// unless the attempt's context ends first; the limit that applies decides
// whether an attempt is cut, and so how many attempts the server sees: a
// slow attempt under a short limit is cut and retried, one under a long
// limit answers. The limits are far from slowSleep either way, so that the
// tests count attempts and never time anything.
const (
	short     = 300 * time.Millisecond // what the .proto declares, and what the tests set to cut
	slowSleep = 1500 * time.Millisecond
	long      = 5 * time.Second // what the tests set not to cut
)

// slowMethod is a unary method of a generated client of the timeout
// services.
type slowMethod func(context.Context, *e2ev1.SlowRequest, ...client.CallOption) (*e2ev1.SlowResponse, error)

// slowCase is one call: its first slow attempts sleep for sleep.
type slowCase struct {
	name   string
	method func(t *testing.T) slowMethod
	ctx    func() (context.Context, context.CancelFunc)
	slow   uint32
	sleep  time.Duration
	opts   []client.CallOption
	// want: the attempts the server sees, and the call's code (0: it
	// succeeds).
	attempts uint32
	code     triple_protocol.Code
}

func (c slowCase) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if c.ctx != nil {
		ctx, cancel = c.ctx()
	}
	defer cancel()
	sleep := c.sleep
	if sleep == 0 {
		sleep = slowSleep
	}
	id := newID(t)
	_, err := c.method(t)(ctx, &e2ev1.SlowRequest{Id: id, Slow: c.slow, SleepMs: uint32(sleep / time.Millisecond)}, c.opts...)
	if got := attempts.Attempts(id); got != c.attempts {
		t.Errorf("the server saw %d attempts, want %d", got, c.attempts)
	}
	switch {
	case c.code == 0 && err != nil:
		t.Errorf("the call failed: %v", err)
	case c.code != 0 && triple_protocol.CodeOf(err) != c.code:
		t.Errorf("the call ended with %v (%v), want %v", triple_protocol.CodeOf(err), err, c.code)
	}
}

func runSlowCases(t *testing.T, cases []slowCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

// timeoutService returns, for a case, a method of a TimeoutService created
// from a client of its own with clientOpts, and given serviceOpts.
func timeoutService(method string, clientOpts []client.ClientOption, serviceOpts ...client.ReferenceOption) func(*testing.T) slowMethod {
	return func(t *testing.T) slowMethod {
		svc := try(e2ev1.NewTimeoutService(testbed.Client(t, clientOpts...), serviceOpts...)).must(t)
		if method == "Limited" {
			return svc.Limited
		}
		return svc.Unlimited
	}
}

func clientTimeout(d time.Duration) []client.ClientOption {
	return []client.ClientOption{client.WithClientRequestTimeout(d)}
}

func methodTimeout(name string, d time.Duration) client.ReferenceOption {
	return client.WithMethod(&global.MethodConfig{Name: name, RequestTimeout: d.String()})
}

// TestTimeoutLayers checks each row of the timeout column: which limit
// applies to each attempt, from the layer that wins.
func TestTimeoutLayers(t *testing.T) {
	serviceTimeout := func(method string) func(*testing.T) slowMethod {
		return func(t *testing.T) slowMethod {
			svc := try(e2ev1.NewServiceTimeoutService(testbed.Client(t))).must(t)
			if method == "Inherit" {
				return svc.Inherit
			}
			return svc.Override
		}
	}
	runSlowCases(t, []slowCase{
		// Layer 0: dubbo-go's 3 s, where nothing else sets a limit.
		{name: "0: dubbo-go's 3s", method: timeoutService("Unlimited", nil), slow: 1, sleep: 3500 * time.Millisecond, attempts: 2},
		{name: "0: a 1.5s attempt under dubbo-go's 3s", method: timeoutService("Unlimited", nil), slow: 1, attempts: 1},

		// Layer 1, where the .proto is silent.
		{name: "1: the client's, on a method without a .proto timeout", method: timeoutService("Unlimited", clientTimeout(short)), slow: 1, attempts: 2},

		// Layer 2 over layers 0 and 1.
		{name: "2: the method's .proto timeout", method: timeoutService("Limited", nil), slow: 1, attempts: 2},
		{name: "2: the service's .proto timeout", method: serviceTimeout("Inherit"), slow: 1, attempts: 2},
		{name: "2: the method's .proto timeout beats its service's", method: serviceTimeout("Override"), slow: 1, attempts: 1},
		{name: "2: the .proto beats a longer client timeout", method: timeoutService("Limited", clientTimeout(long)), slow: 1, attempts: 2},
		{name: "2: the .proto beats a shorter client timeout", method: serviceTimeout("Override"), slow: 1, attempts: 1},

		// Layer 3 over layer 2.
		{name: "3: the service's beats the .proto", method: timeoutService("Limited", nil, client.WithRequestTimeout(long)), slow: 1, attempts: 1},
		{name: "3: the service's, on a method without a .proto timeout", method: timeoutService("Unlimited", nil, client.WithRequestTimeout(short)), slow: 1, attempts: 2},
		{name: "3: the service's beats the client's", method: timeoutService("Unlimited", clientTimeout(short), client.WithRequestTimeout(long)), slow: 1, attempts: 1},
		{name: "3: the method's beats the .proto", method: timeoutService("Limited", nil, methodTimeout("Limited", long)), slow: 1, attempts: 1},
		{name: "3: the method's beats the service's",
			method: timeoutService("Limited", nil, client.WithRequestTimeout(short), methodTimeout("Limited", long)), slow: 1, attempts: 1},
		{name: "3: the method's beats the service's, in either order",
			method: timeoutService("Limited", nil, methodTimeout("Limited", long), client.WithRequestTimeout(short)), slow: 1, attempts: 1},
		{name: "3: the service's still sets the other methods",
			method: timeoutService("Unlimited", nil, methodTimeout("Limited", long), client.WithRequestTimeout(short)), slow: 1, attempts: 2},
		{name: "3: a client.WithMethod without a timeout keeps the .proto's",
			method: timeoutService("Limited", nil, client.WithMethod(&global.MethodConfig{Name: "Limited", Retries: "3"})), slow: 1, attempts: 2},
		{name: "3: a later client.WithMethod without a timeout keeps an earlier one's",
			method: timeoutService("Limited", nil, methodTimeout("Limited", long), client.WithMethod(&global.MethodConfig{Name: "Limited", Retries: "3"})),
			slow:   1, attempts: 1},

		// Layer 4 over everything.
		{name: "4: the call's beats the .proto", method: timeoutService("Limited", nil), opts: []client.CallOption{client.WithCallRequestTimeout(long)}, slow: 1, attempts: 1},
		{name: "4: the call's beats the method's", method: timeoutService("Limited", nil, methodTimeout("Limited", long)),
			opts: []client.CallOption{client.WithCallRequestTimeout(short)}, slow: 1, attempts: 2},
		{name: "4: the call's beats the service's", method: timeoutService("Unlimited", nil, client.WithRequestTimeout(short)),
			opts: []client.CallOption{client.WithCallRequestTimeout(long)}, slow: 1, attempts: 1},
		{name: "4: the call's, on a method without any other", method: timeoutService("Unlimited", clientTimeout(long)),
			opts: []client.CallOption{client.WithCallRequestTimeout(short)}, slow: 1, attempts: 2},
	})
}

// TestTimeoutAttempts checks what a limit does to the attempts of a call.
func TestTimeoutAttempts(t *testing.T) {
	withDeadline := func(d time.Duration) func() (context.Context, context.CancelFunc) {
		return func() (context.Context, context.CancelFunc) { return context.WithTimeout(context.Background(), d) }
	}
	runSlowCases(t, []slowCase{
		{name: "each retry gets a full limit of its own", method: timeoutService("Limited", nil), slow: 3, attempts: 4},
		{name: "a timed-out attempt counts against the retries", method: timeoutService("Limited", nil), slow: 100,
			attempts: 4, code: triple_protocol.CodeDeadlineExceeded},
		{name: "client.WithCallRetries(0) makes one attempt", method: timeoutService("Limited", nil), slow: 100,
			opts: []client.CallOption{client.WithCallRetries(0)}, attempts: 1, code: triple_protocol.CodeDeadlineExceeded},
		{name: "the caller's deadline does not lift the limit", method: timeoutService("Limited", nil), slow: 1,
			ctx: withDeadline(20 * time.Second), attempts: 2},
		{name: "each retry gets the call's limit too", method: timeoutService("Unlimited", nil), slow: 2,
			opts: []client.CallOption{client.WithCallRequestTimeout(short)}, attempts: 3},
		{name: "the caller's deadline does not lift the call's limit", method: timeoutService("Unlimited", nil), slow: 1,
			ctx: withDeadline(20 * time.Second), opts: []client.CallOption{client.WithCallRequestTimeout(short)}, attempts: 2},
	})
}

// TestCallerDeadlineBoundsCall: with 1000 retries of attempts cut at 300 ms,
// a caller's deadline of 2 s ends the call, with DEADLINE_EXCEEDED: no
// more attempts than fit in it (7) reach the server.
func TestCallerDeadlineBoundsCall(t *testing.T) {
	svc := try(e2ev1.NewTimeoutService(testbed.Client(t), client.WithRetries(1000))).must(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	id := newID(t)
	_, err := svc.Limited(ctx, &e2ev1.SlowRequest{Id: id, Slow: 1000, SleepMs: uint32(slowSleep / time.Millisecond)})
	if code := triple_protocol.CodeOf(err); code != triple_protocol.CodeDeadlineExceeded {
		t.Errorf("the call ended with %v (%v), want %v", code, err, triple_protocol.CodeDeadlineExceeded)
	}
	if n := attempts.Attempts(id); n < 1 || n > 7 {
		t.Errorf("the server saw %d attempts in 2 s of attempts cut at 300 ms each, want 1 to 7", n)
	}
}

// TestNoTimeoutLeak: a service option given to one service does not reach
// another created after it from the same client, and a service whose
// .proto declares no timeout gets no filter.
func TestNoTimeoutLeak(t *testing.T) {
	cli := testbed.Client(t)
	try(e2ev1.NewTimeoutService(cli, client.WithRequestTimeout(short), methodTimeout("Limited", short))).must(t)
	later := try(e2ev1.NewTimeoutService(cli)).must(t)
	plain := try(e2ev1.NewNoTimeoutService(cli)).must(t)
	runSlowCases(t, []slowCase{
		{name: "the first service's timeout does not reach a later one", method: func(*testing.T) slowMethod { return later.Unlimited }, slow: 1, attempts: 1},
		{name: "the first service's WithMethod does not reach a later one", method: func(*testing.T) slowMethod { return later.Limited },
			opts: []client.CallOption{client.WithCallRequestTimeout(long)}, slow: 1, attempts: 1},
		{name: "nor a service without .proto timeouts", method: func(*testing.T) slowMethod { return plain.Unlimited }, slow: 1, attempts: 1},
	})
}

// TestDubboTimeouts records what dubbo-go v3.3.2 does with each timeout
// setting for a service created as protoc-gen-go-triple's code creates it
// (cli.DialWithInfo, without the runtime's layering): docs/design.md,
// "Timeouts". Only the client's timeout limits an attempt, and only when
// the caller's context has no deadline. If dubbo-go changes this, this test
// fails: update docs/design.md and docs/policies.md ("Timeouts").
func TestDubboTimeouts(t *testing.T) {
	noTimeout := func(clientOpts []client.ClientOption, serviceOpts ...client.ReferenceOption) func(*testing.T) slowMethod {
		return func(t *testing.T) slowMethod {
			cli := testbed.Client(t, clientOpts...)
			info := &e2ev1.NoTimeoutService_ClientInfo
			conn := try(cli.DialWithInfo(e2ev1.NoTimeoutServiceName, info, serviceOpts...)).must(t)
			svc := new(e2ev1.NoTimeoutServiceImpl)
			info.ConnectionInjectFunc(svc, conn)
			return svc.Unlimited
		}
	}
	deadline := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 20*time.Second)
	}
	runSlowCases(t, []slowCase{
		{name: "client.WithClientRequestTimeout limits each attempt", method: noTimeout(clientTimeout(short)), slow: 1, attempts: 2},
		{name: "but not under a caller's deadline", method: noTimeout(clientTimeout(short)), ctx: deadline, slow: 1, attempts: 1},
		{name: "client.WithRequestTimeout is ignored", method: noTimeout(nil, client.WithRequestTimeout(short)), slow: 1, attempts: 1},
		{name: "client.WithMethod's RequestTimeout is ignored", method: noTimeout(nil, methodTimeout("Unlimited", short)), slow: 1, attempts: 1},
		{name: "methods.<M>.timeout is ignored", method: noTimeout(nil, client.WithParam("methods.Unlimited.timeout", short.String())), slow: 1, attempts: 1},
		{name: "client.WithCallRequestTimeout is ignored", method: noTimeout(nil),
			opts: []client.CallOption{client.WithCallRequestTimeout(short)}, slow: 1, attempts: 1},
		{name: "client.WithCallRequestTimeout does not beat the client's", method: noTimeout(clientTimeout(short)),
			opts: []client.CallOption{client.WithCallRequestTimeout(long)}, slow: 1, attempts: 2},
	})
}

// TestTimeoutsWithoutProto: every layer of the timeout column works for a
// generated service whose .proto declares no timeout, where dubbo-go
// ignores them all (TestDubboTimeouts).
func TestTimeoutsWithoutProto(t *testing.T) {
	noTimeout := func(clientOpts []client.ClientOption, serviceOpts ...client.ReferenceOption) func(*testing.T) slowMethod {
		return func(t *testing.T) slowMethod {
			return try(e2ev1.NewNoTimeoutService(testbed.Client(t, clientOpts...), serviceOpts...)).must(t).Unlimited
		}
	}
	deadline := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 20*time.Second)
	}
	runSlowCases(t, []slowCase{
		{name: "0: not a 1.5s attempt", method: noTimeout(nil), slow: 1, attempts: 1},
		{name: "1: the client's", method: noTimeout(clientTimeout(short)), slow: 1, attempts: 2},
		{name: "1: the client's, not under a caller's deadline, as in dubbo-go", method: noTimeout(clientTimeout(short)), ctx: deadline, slow: 1, attempts: 1},
		{name: "3: client.WithRequestTimeout", method: noTimeout(nil, client.WithRequestTimeout(short)), slow: 1, attempts: 2},
		{name: "3: client.WithRequestTimeout, under a caller's deadline", method: noTimeout(nil, client.WithRequestTimeout(short)), ctx: deadline, slow: 1, attempts: 2},
		{name: "3: client.WithRequestTimeout beats the client's", method: noTimeout(clientTimeout(short), client.WithRequestTimeout(long)), slow: 1, attempts: 1},
		{name: "3: client.WithMethod's RequestTimeout", method: noTimeout(nil, methodTimeout("Unlimited", short)), slow: 1, attempts: 2},
		{name: "4: client.WithCallRequestTimeout", method: noTimeout(nil),
			opts: []client.CallOption{client.WithCallRequestTimeout(short)}, slow: 1, attempts: 2},
		{name: "4: client.WithCallRequestTimeout beats the client's", method: noTimeout(clientTimeout(short)),
			opts: []client.CallOption{client.WithCallRequestTimeout(long)}, slow: 1, attempts: 1},
		{name: "4: client.WithCallRequestTimeout beats the service's", method: noTimeout(nil, client.WithRequestTimeout(long)),
			opts: []client.CallOption{client.WithCallRequestTimeout(short)}, slow: 1, attempts: 2},
	})
}
