package e2e

import (
	"context"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"github.com/google/go-cmp/cmp"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// These tests walk the precedence table of docs/design.md, "Precedence", on
// a real Triple server. Each call fails every attempt with a retryable
// error, and the test counts the attempts the server saw: retries + 1.

// unary is a unary method of a generated client.
type unary func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)

// want is the attempts one call of method should make.
type want struct {
	name     string
	method   unary
	attempts uint32
	opts     []client.CallOption
}

// check makes each call of wants fail every attempt and compares the
// attempts the server saw.
func check(t *testing.T, wants ...want) {
	t.Helper()
	for _, w := range wants {
		if got := failingCall(t, w.method, w.opts...); got != w.attempts {
			t.Errorf("%s: the server saw %d attempts, want %d", w.name, got, w.attempts)
		}
	}
}

// failingCall calls method with a request that fails every attempt with
// CodeUnavailable and returns the attempts the server saw.
func failingCall(t *testing.T, method unary, opts ...client.CallOption) uint32 {
	t.Helper()
	id := newID(t)
	_, err := method(context.Background(), &e2ev1.Request{Id: id, Fail: 1000}, opts...)
	if err == nil {
		t.Fatalf("%s: the call succeeded, but the server fails every attempt", id)
	}
	if code := triple_protocol.CodeOf(err); code != triple_protocol.CodeUnavailable {
		t.Fatalf("%s: the call failed with %v (%v), want %v", id, code, err, triple_protocol.CodeUnavailable)
	}
	return attempts.Attempts(id)
}

// try(f()).must(t) is the result of f, or the end of the test if f fails.
func try[T any](v T, err error) result[T] { return result[T]{v, err} }

type result[T any] struct {
	v   T
	err error
}

func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// Layer 2 alone: the defaults of the .proto, over dubbo-go's own default of
// 2 retries.
func TestProtoDefaults(t *testing.T) {
	cli := testbed.Client(t)
	layer := try(e2ev1.NewLayerService(cli)).must(t)
	guarded := try(e2ev1.NewGuardedService(cli)).must(t)
	file := try(e2ev1.NewFileDefaultService(cli)).must(t)
	check(t,
		want{"method option retries: 3", layer.Declared, 4, nil},
		want{"method option retries: 0", layer.Never, 1, nil},
		want{"no option: dubbo-go's default", layer.Undeclared, 3, nil},
		want{"service option, idempotent method", guarded.Read, 3, nil},
		want{"service option idempotent_only, other method", guarded.Write, 1, nil},
		want{"file option", file.Inherit, 2, nil},
	)
}

// Layer 1 under layer 2: the client's retries fill in only the methods the
// .proto says nothing about.
func TestClientRetriesFillInUndeclaredMethods(t *testing.T) {
	for _, clientRetries := range []int{5, 0} {
		cli := testbed.Client(t, client.WithClientRetries(clientRetries))
		layer := try(e2ev1.NewLayerService(cli)).must(t)
		guarded := try(e2ev1.NewGuardedService(cli)).must(t)
		file := try(e2ev1.NewFileDefaultService(cli)).must(t)
		check(t,
			want{"method option retries: 3", layer.Declared, 4, nil},
			want{"method option retries: 0", layer.Never, 1, nil},
			want{"no option: the client's", layer.Undeclared, uint32(clientRetries) + 1, nil},
			want{"service option", guarded.Read, 3, nil},
			want{"service option idempotent_only", guarded.Write, 1, nil},
			want{"file option", file.Inherit, 2, nil},
		)
	}
}

// Layer 3 over layer 2: client.WithRetries given to the constructor sets
// every method of the service, .proto defaults included.
func TestServiceRetriesOverrideProto(t *testing.T) {
	cli := testbed.Client(t, client.WithClientRetries(5))
	layer := try(e2ev1.NewLayerService(cli, client.WithRetries(1))).must(t)
	guarded := try(e2ev1.NewGuardedService(cli, client.WithRetries(0))).must(t)
	check(t,
		want{"Declared", layer.Declared, 2, nil},
		want{"Never", layer.Never, 2, nil},
		want{"Undeclared", layer.Undeclared, 2, nil},
		want{"Read", guarded.Read, 1, nil},
		want{"Write", guarded.Write, 1, nil},
	)
}

// Layer 3, one method: client.WithMethod beats client.WithRetries for its
// method, in either order.
func TestMethodRetriesOverrideService(t *testing.T) {
	declared := func() *global.MethodConfig { return &global.MethodConfig{Name: "Declared", Retries: "5"} }
	never := func() *global.MethodConfig { return &global.MethodConfig{Name: "Never", Retries: "2"} }
	cli := testbed.Client(t)
	for _, opts := range [][]client.ReferenceOption{
		{client.WithRetries(1), client.WithMethod(declared()), client.WithMethod(never())},
		{client.WithMethod(declared()), client.WithMethod(never()), client.WithRetries(1)},
	} {
		layer := try(e2ev1.NewLayerService(cli, opts...)).must(t)
		check(t,
			want{"Declared: WithMethod 5", layer.Declared, 6, nil},
			want{"Never: WithMethod 2", layer.Never, 3, nil},
			want{"Undeclared: WithRetries 1", layer.Undeclared, 2, nil},
		)
	}
	// A later WithMethod for the same method that sets no retries does not
	// undo the retries of an earlier one.
	layer := try(e2ev1.NewLayerService(cli,
		client.WithMethod(declared()),
		client.WithMethod(&global.MethodConfig{Name: "Declared", RequestTimeout: "9s"}),
	)).must(t)
	check(t, want{"Declared: WithMethod 5, then WithMethod without retries", layer.Declared, 6, nil})

	// Without WithRetries, WithMethod sets its method alone.
	layer = try(e2ev1.NewLayerService(cli, client.WithMethod(never()))).must(t)
	check(t,
		want{"Never: WithMethod 2", layer.Never, 3, nil},
		want{"Declared: .proto", layer.Declared, 4, nil},
	)
}

// A WithMethod that sets no retries leaves the .proto default in force, and
// the caller's config as it was.
func TestMethodWithoutRetriesKeepsProtoDefault(t *testing.T) {
	cfg := &global.MethodConfig{Name: "Declared", RequestTimeout: "7s", LoadBalance: "random"}
	before := *cfg
	cli := testbed.Client(t, client.WithClientRetries(5))
	layer := try(e2ev1.NewLayerService(cli, client.WithMethod(cfg))).must(t)
	check(t, want{"Declared", layer.Declared, 4, nil})
	if diff := cmp.Diff(before, *cfg); diff != "" {
		t.Errorf("NewLayerService changed the caller's MethodConfig (-before +after):\n%s", diff)
	}

	// The same config, given to a second service, still has no retries.
	again := try(e2ev1.NewLayerService(cli, client.WithMethod(cfg), client.WithRetries(1))).must(t)
	check(t, want{"Declared: WithRetries 1", again.Declared, 2, nil})
}

// Layer 4 over everything: client.WithCallRetries on the call.
func TestCallRetriesOverrideEverything(t *testing.T) {
	cli := testbed.Client(t, client.WithClientRetries(5))
	layer := try(e2ev1.NewLayerService(cli,
		client.WithRetries(1),
		client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "5"}),
	)).must(t)
	plain := try(e2ev1.NewLayerService(cli)).must(t)
	check(t,
		want{"over WithMethod", layer.Declared, 1, []client.CallOption{client.WithCallRetries(0)}},
		want{"over WithRetries", layer.Never, 4, []client.CallOption{client.WithCallRetries(3)}},
		want{"over the .proto", plain.Declared, 2, []client.CallOption{client.WithCallRetries(1)}},
		want{"over the .proto's 0", plain.Never, 3, []client.CallOption{client.WithCallRetries(2)}},
		want{"over the client's", plain.Undeclared, 1, []client.CallOption{client.WithCallRetries(0)}},
	)
}

// Options given to one service do not reach another service created from
// the same client, in either order, and neither do the .proto defaults of
// one service reach a method of the same name in another.
func TestNoLeakBetweenServices(t *testing.T) {
	t.Run("options of the first service", func(t *testing.T) {
		cli := testbed.Client(t)
		layer := try(e2ev1.NewLayerService(cli,
			client.WithRetries(5),
			client.WithMethod(&global.MethodConfig{Name: "Undeclared", Retries: "4"}),
		)).must(t)
		plain := try(e2ev1.NewPlainService(cli)).must(t)
		check(t,
			want{"plain Declared", plain.Declared, 3, nil},
			want{"plain Undeclared", plain.Undeclared, 3, nil},
			want{"layer Declared", layer.Declared, 6, nil},
			want{"layer Undeclared", layer.Undeclared, 5, nil},
		)
	})
	t.Run("options of the second service", func(t *testing.T) {
		cli := testbed.Client(t)
		layer := try(e2ev1.NewLayerService(cli)).must(t)
		plain := try(e2ev1.NewPlainService(cli, client.WithRetries(4))).must(t)
		check(t,
			want{"layer Declared", layer.Declared, 4, nil},
			want{"layer Undeclared", layer.Undeclared, 3, nil},
			want{"layer Never", layer.Never, 1, nil},
			want{"plain Declared", plain.Declared, 5, nil},
		)
	})
	t.Run("the .proto defaults", func(t *testing.T) {
		cli := testbed.Client(t)
		try(e2ev1.NewLayerService(cli)).must(t)
		plain := try(e2ev1.NewPlainService(cli)).must(t)
		check(t, want{"plain Declared", plain.Declared, 3, nil})
	})
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
	conn := try(cli.DialWithInfo(e2ev1.PlainServiceName, &e2ev1.PlainService_ClientInfo)).must(t)
	raw := func(ctx context.Context, req *e2ev1.Request, opts ...client.CallOption) (*e2ev1.Response, error) {
		resp := new(e2ev1.Response)
		return resp, conn.CallUnary(ctx, []any{req}, resp, "Undeclared", opts...)
	}
	check(t, want{"second raw service", raw, 6, nil})
}

// A handler's plain error is a business error: dubbo-go never retries it,
// whatever the layers say.
func TestBusinessErrorsAreNotRetried(t *testing.T) {
	cli := testbed.Client(t, client.WithClientRetries(5))
	layer := try(e2ev1.NewLayerService(cli)).must(t)
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
	layer := try(e2ev1.NewLayerService(testbed.Client(t))).must(t)
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
