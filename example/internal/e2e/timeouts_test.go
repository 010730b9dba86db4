package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/precedence"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// These tests walk the timeout column of the precedence table
// (docs/design.md, "Timeouts") on a real Triple server: see
// precedence.Timeouts. The server (testbed.Slow) makes the first attempts
// of a call sleep, unless the attempt's context ends first; the limit that
// applies decides whether an attempt is cut, and so how many attempts the
// server sees. The tests count attempts and never time anything.
const (
	short     = precedence.Short
	slowSleep = precedence.SlowSleep
)

// checkSlowCall fails the test if the call id, which ended with err, did
// not end with code (0: success) after attempts attempts.
func checkSlowCall(t *testing.T, id string, err error, attempts uint32, code triple_protocol.Code) {
	t.Helper()
	if got := seen(id); got != attempts {
		t.Errorf("the server saw %d attempts, want %d", got, attempts)
	}
	switch {
	case code == 0 && err != nil:
		t.Errorf("the call failed: %v", err)
	case code != 0 && triple_protocol.CodeOf(err) != code:
		t.Errorf("the call ended with %v (%v), want %v", triple_protocol.CodeOf(err), err, code)
	}
}

// seen returns the attempts the server has seen of the call id.
func seen(id string) uint32 { return attempts.Attempts(id) }

// TestTimeoutPrecedence makes every call of every row of
// precedence.Timeouts at once (they spend their time waiting, and
// parallel subtests would run two at a time on two CPUs): each must end as
// it should, after the attempts it should make.
func TestTimeoutPrecedence(t *testing.T) {
	type outcome struct {
		id  string
		err error
	}
	outcomes := make([][]outcome, len(precedence.Timeouts))
	var wg sync.WaitGroup
	for i, r := range precedence.Timeouts {
		calls, _, err := r.Bind(testbed.Client(t, r.ClientOptions()...))
		if err != nil {
			t.Fatal(err)
		}
		outcomes[i] = make([]outcome, len(calls))
		for j, call := range calls {
			id := testbed.NewID(r.Name + "/" + r.Calls[j].Name)
			wg.Go(func() { outcomes[i][j] = outcome{id, call(context.Background(), id)} })
		}
	}
	wg.Wait()
	for i, r := range precedence.Timeouts {
		t.Run(r.Name, func(t *testing.T) {
			for j, c := range r.Calls {
				t.Run(c.Name, func(t *testing.T) {
					checkSlowCall(t, outcomes[i][j].id, outcomes[i][j].err, c.Attempts, c.Code)
				})
			}
		})
	}
}

// TestCallerDeadlineBoundsCall: with 1000 retries of attempts cut at 300 ms,
// a caller's deadline of 2 s ends the call, with DEADLINE_EXCEEDED: no
// more attempts than fit in it (7) reach the server.
func TestCallerDeadlineBoundsCall(t *testing.T) {
	svc := testbed.Try(e2ev1.NewTimeoutService(testbed.Client(t), client.WithRetries(1000))).Must(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	id := newID(t)
	_, err := svc.Limited(ctx, &e2ev1.SlowRequest{Id: id, Slow: 1000, SleepMs: uint32(slowSleep / time.Millisecond)})
	if code := triple_protocol.CodeOf(err); code != triple_protocol.CodeDeadlineExceeded {
		t.Errorf("the call ended with %v (%v), want %v", code, err, triple_protocol.CodeDeadlineExceeded)
	}
	if n := seen(id); n < 1 || n > 7 {
		t.Errorf("the server saw %d attempts in 2 s of attempts cut at 300 ms each, want 1 to 7", n)
	}
}

// TestDubboTimeouts records what dubbo-go v3.3.2 does with each timeout
// setting for a service created as protoc-gen-go-triple's code creates it
// (cli.DialWithInfo, without the runtime's layering): docs/design.md,
// "Timeouts". Only the client's timeout limits an attempt, and only when
// the caller's context has no deadline. If dubbo-go changes this, this test
// fails: update docs/design.md and docs/policies.md ("Timeouts").
func TestDubboTimeouts(t *testing.T) {
	clientTimeout := []client.ClientOption{client.WithClientRequestTimeout(short)}
	var wg sync.WaitGroup
	var checks []func()
	for _, c := range []struct {
		name     string
		client   []client.ClientOption
		service  []client.ReferenceOption
		call     []client.CallOption
		deadline bool // the caller's context has one, of 20 s
		attempts uint32
	}{
		{name: "client.WithClientRequestTimeout limits each attempt", client: clientTimeout, attempts: 2},
		{name: "but not under a caller's deadline", client: clientTimeout, deadline: true, attempts: 1},
		{name: "client.WithRequestTimeout is ignored", service: []client.ReferenceOption{client.WithRequestTimeout(short)}, attempts: 1},
		{name: "client.WithMethod's RequestTimeout is ignored",
			service: []client.ReferenceOption{client.WithMethod(&global.MethodConfig{Name: "Unlimited", RequestTimeout: short.String()})}, attempts: 1},
		{name: "methods.<M>.timeout is ignored", service: []client.ReferenceOption{client.WithParam("methods.Unlimited.timeout", short.String())}, attempts: 1},
		{name: "client.WithCallRequestTimeout is ignored", call: []client.CallOption{client.WithCallRequestTimeout(short)}, attempts: 1},
		{name: "client.WithCallRequestTimeout does not beat the client's", client: clientTimeout,
			call: []client.CallOption{client.WithCallRequestTimeout(precedence.Long)}, attempts: 2},
	} {
		// The calls are made at once, as in TestTimeoutPrecedence.
		cli := testbed.Client(t, c.client...)
		info := &e2ev1.NoTimeoutService_ClientInfo
		conn := testbed.Try(cli.DialWithInfo(e2ev1.NoTimeoutServiceName, info, c.service...)).Must(t)
		svc := new(e2ev1.NoTimeoutServiceImpl)
		info.ConnectionInjectFunc(svc, conn)
		id := testbed.NewID(t.Name() + "/" + c.name)
		var err error
		wg.Go(func() {
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if c.deadline {
				ctx, cancel = context.WithTimeout(ctx, 20*time.Second)
			}
			defer cancel()
			_, err = svc.Unlimited(ctx, &e2ev1.SlowRequest{Id: id, Slow: 1, SleepMs: uint32(slowSleep / time.Millisecond)}, c.call...)
		})
		checks = append(checks, func() {
			t.Run(c.name, func(t *testing.T) { checkSlowCall(t, id, err, c.attempts, 0) })
		})
	}
	wg.Wait()
	for _, check := range checks {
		check()
	}
}
