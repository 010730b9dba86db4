package e2e

import (
	"context"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"github.com/google/go-cmp/cmp"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/precedence"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// These tests walk the precedence table of docs/design.md, "Precedence", on
// a real Triple server. Each call fails every attempt with a retryable
// error, and the test counts the attempts the server saw: retries + 1.

// unary is a unary method of a generated client.
type unary = precedence.Unary

// want is the attempts one call of method should make.
type want struct {
	name     string
	method   unary
	attempts uint32
}

// check makes each call of wants fail every attempt and compares the
// attempts the server saw.
func check(t *testing.T, wants ...want) {
	t.Helper()
	for _, w := range wants {
		if got := failingCall(t, w.method); got != w.attempts {
			t.Errorf("%s: the server saw %d attempts, want %d", w.name, got, w.attempts)
		}
	}
}

// failingCall makes call with a request that fails every attempt with
// CodeUnavailable and returns the attempts the server saw.
func failingCall(t *testing.T, call precedence.Unary) uint32 {
	t.Helper()
	id := newID(t)
	_, err := call(context.Background(), &e2ev1.Request{Id: id, Fail: 1000})
	if err == nil {
		t.Fatalf("%s: the call succeeded, but the server fails every attempt", id)
	}
	if code := triple_protocol.CodeOf(err); code != triple_protocol.CodeUnavailable {
		t.Fatalf("%s: the call failed with %v (%v), want %v", id, code, err, triple_protocol.CodeUnavailable)
	}
	return attempts.Attempts(id)
}

// bind creates the services of the scenario s, from a client of its own,
// and returns its calls.
func bind(t testing.TB, s precedence.Scenario) []precedence.Bound {
	t.Helper()
	return testbed.Try(s.Bind(testbed.Client(t, s.ClientOptions()...))).Must(t)
}

// TestPrecedence makes every row of precedence.Retries: each call must
// make the attempts its layers give it.
func TestPrecedence(t *testing.T) {
	for _, s := range precedence.Retries {
		t.Run(s.Name, func(t *testing.T) {
			for _, c := range bind(t, s) {
				if got := failingCall(t, c.Do); got != c.Retries+1 {
					t.Errorf("%s: the server saw %d attempts, want %d", c.Name(), got, c.Retries+1)
				}
			}
		})
	}
}

// A WithMethod that sets no retries leaves the .proto default in force, and
// the caller's config as it was.
func TestMethodWithoutRetriesKeepsProtoDefault(t *testing.T) {
	cfg := &global.MethodConfig{Name: "Declared", RequestTimeout: "7s", LoadBalance: "random"}
	before := *cfg
	cli := testbed.Client(t, client.WithClientRetries(5))
	layer := testbed.Try(e2ev1.NewLayerService(cli, client.WithMethod(cfg))).Must(t)
	check(t, want{"Declared", layer.Declared, 4})
	if diff := cmp.Diff(before, *cfg); diff != "" {
		t.Errorf("NewLayerService changed the caller's MethodConfig (-before +after):\n%s", diff)
	}

	// The same config, given to a second service, still has no retries.
	again := testbed.Try(e2ev1.NewLayerService(cli, client.WithMethod(cfg), client.WithRetries(1))).Must(t)
	check(t, want{"Declared: WithRetries 1", again.Declared, 2})
}

// TestDubboLeaksServiceOptions shows the dubbo-go behaviour the generated
// constructors isolate services from: two services dialled from one client
// without them share one reference config. If this starts failing, dubbo-go
// has fixed the leak.
func TestDubboLeaksServiceOptions(t *testing.T) {
	cli := testbed.Client(t)
	if _, err := cli.DialWithInfo(e2ev1.PlainServiceName, &e2ev1.PlainService_ClientInfo, client.WithRetries(5)); err != nil {
		t.Fatal(err)
	}
	conn := testbed.Try(cli.DialWithInfo(e2ev1.PlainServiceName, &e2ev1.PlainService_ClientInfo)).Must(t)
	raw := func(ctx context.Context, req *e2ev1.Request, opts ...client.CallOption) (*e2ev1.Response, error) {
		resp := new(e2ev1.Response)
		return resp, conn.CallUnary(ctx, []any{req}, resp, "Undeclared", opts...)
	}
	check(t, want{"second raw service", raw, 6})
}

// A handler's plain error is a business error: dubbo-go never retries it,
// whatever the layers say.
func TestBusinessErrorsAreNotRetried(t *testing.T) {
	cli := testbed.Client(t, client.WithClientRetries(5))
	layer := testbed.Try(e2ev1.NewLayerService(cli)).Must(t)
	for _, opts := range [][]client.CallOption{nil, {client.WithCallRetries(4)}} {
		id := newID(t)
		_, err := layer.Declared(context.Background(), &e2ev1.Request{Id: id, Business: true}, opts...)
		if code := triple_protocol.CodeOf(err); code != triple_protocol.CodeBizError {
			t.Errorf("the call failed with %v (%v), want %v", code, err, triple_protocol.CodeBizError)
		}
		if got := attempts.Attempts(id); got != 1 {
			t.Errorf("the server saw %d attempts of a business error, want 1", got)
		}
	}
}

// A call that fails fewer times than its retries succeeds, on the attempt
// after the last failure.
func TestCallSucceedsWithinRetries(t *testing.T) {
	layer := testbed.Try(e2ev1.NewLayerService(testbed.Client(t))).Must(t)
	for fail := uint32(0); fail <= 4; fail++ {
		id := newID(t)
		resp, err := layer.Declared(context.Background(), &e2ev1.Request{Id: id, Fail: fail})
		switch {
		case fail <= 3 && err != nil:
			t.Errorf("fail %d: %v, want success within 3 retries", fail, err)
		case fail <= 3 && resp.Attempts != fail+1:
			t.Errorf("fail %d: succeeded on attempt %d, want %d", fail, resp.Attempts, fail+1)
		case fail > 3 && err == nil:
			t.Errorf("fail %d: succeeded, want failure after 4 attempts", fail)
		}
		if got, want := attempts.Attempts(id), min(fail, 3)+1; got != want {
			t.Errorf("fail %d: the server saw %d attempts, want %d", fail, got, want)
		}
	}
}
