package policy

import (
	"context"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

const (
	unavailable     = triple_protocol.CodeUnavailable
	invalidArgument = triple_protocol.CodeInvalidArgument
	deadlineCode    = triple_protocol.CodeDeadlineExceeded
	internal        = triple_protocol.CodeInternal
)

// attempt is one call and the attempts the server should see.
type attempt struct {
	name     string
	method   unary
	code     triple_protocol.Code // the code every attempt fails with
	attempts uint32
	opts     []client.CallOption
}

// check makes each call fail every attempt with its code, and compares the
// attempts the server saw, and the code the call returned.
func check(t *testing.T, cases ...attempt) {
	t.Helper()
	for _, c := range cases {
		id := id(t, c.code)
		_, err := c.method(context.Background(), &e2ev1.Request{Id: id, Fail: 1000}, c.opts...)
		if got := triple_protocol.CodeOf(err); got != c.code {
			t.Errorf("%s: the call failed with %v (%v), want %v", c.name, got, err, c.code)
		}
		if got := seen.Attempts(id); got != c.attempts {
			t.Errorf("%s: the server saw %d attempts, want %d", c.name, got, c.attempts)
		}
	}
}

// checkBusiness makes a call that fails with a business error, which is
// never retried.
func checkBusiness(t *testing.T, name string, method unary) {
	t.Helper()
	id := id(t, unavailable)
	_, err := method(context.Background(), &e2ev1.Request{Id: id, Business: true})
	if code := triple_protocol.CodeOf(err); code != triple_protocol.CodeBizError || seen.Attempts(id) != 1 {
		t.Errorf("%s: business error: %v after %d attempts, want %v after 1", name, code, seen.Attempts(id), triple_protocol.CodeBizError)
	}
}

// retry_on: [CODE_UNAVAILABLE] in the .proto of RetryOnService.Declared
// (3 retries): a code it does not list ends the call after one attempt,
// with that attempt's code; UNAVAILABLE gets the retries + 1 attempts. A
// business error is never retried.
func TestRetryOnFromProto(t *testing.T) {
	svc := testbed.Try(e2ev1.NewRetryOnService(testbed.Client(t))).Must(t)
	check(t,
		attempt{"unavailable: listed", svc.Declared, unavailable, 4, nil},
		attempt{"invalid argument", svc.Declared, invalidArgument, 1, nil},
		attempt{"deadline exceeded", svc.Declared, deadlineCode, 1, nil},
		attempt{"internal", svc.Declared, internal, 1, nil},
		attempt{"a method without retry_on: dubbo-go's rule", svc.Undeclared, invalidArgument, 3, nil},
		attempt{"WithCallRetries(0) turns retries off", svc.Declared, unavailable, 1, []client.CallOption{client.WithCallRetries(0)}},
		attempt{"WithCallRetries(1)", svc.Declared, unavailable, 2, []client.CallOption{client.WithCallRetries(1)}},
	)
	checkBusiness(t, "Declared", svc.Declared)
}

// Layer 3 overrides the .proto's list: WithRetryOn for the whole service,
// WithMethodRetryOn for one method, over WithRetryOn, in any order.
func TestRetryOnOverridden(t *testing.T) {
	cli := testbed.Client(t)
	service := testbed.Try(e2ev1.NewRetryOnService(cli, dubboretry.WithRetryOn(internal))).Must(t)
	check(t,
		attempt{"WithRetryOn(internal): internal", service.Declared, internal, 4, nil},
		attempt{"WithRetryOn(internal): unavailable", service.Declared, unavailable, 1, nil},
		attempt{"WithRetryOn(internal): invalid argument", service.Declared, invalidArgument, 1, nil},
		attempt{"WithRetryOn(internal), a method without retry_on", service.Undeclared, internal, 3, nil},
		attempt{"WithRetryOn(internal), a method without retry_on, unavailable", service.Undeclared, unavailable, 1, nil},
	)
	for _, opts := range [][]client.ReferenceOption{
		{dubboretry.WithRetryOn(internal), dubboretry.WithMethodRetryOn("Declared", deadlineCode, unavailable)},
		{dubboretry.WithMethodRetryOn("Declared", deadlineCode, unavailable), dubboretry.WithRetryOn(internal)},
	} {
		method := testbed.Try(e2ev1.NewRetryOnService(cli, opts...)).Must(t)
		check(t,
			attempt{"WithMethodRetryOn: deadline exceeded", method.Declared, deadlineCode, 4, nil},
			attempt{"WithMethodRetryOn: unavailable", method.Declared, unavailable, 4, nil},
			attempt{"WithMethodRetryOn: internal", method.Declared, internal, 1, nil},
			attempt{"WithMethodRetryOn, other method: WithRetryOn", method.Undeclared, internal, 3, nil},
		)
	}
	anyCode := testbed.Try(e2ev1.NewRetryOnService(cli, dubboretry.WithRetryOn())).Must(t)
	check(t, attempt{"WithRetryOn(): dubbo-go's rule", anyCode.Declared, invalidArgument, 4, nil})
}

// A policy stays with its service: services created after it from the same
// client, whose .proto declares none, retry as dubbo-go does.
func TestPolicyDoesNotLeak(t *testing.T) {
	cli := testbed.Client(t)
	svc := testbed.Try(e2ev1.NewRetryOnService(cli, dubboretry.WithRetryOn(internal))).Must(t)
	plain := testbed.Try(e2ev1.NewPlainService(cli)).Must(t)
	layer := testbed.Try(e2ev1.NewLayerService(cli)).Must(t)
	check(t,
		attempt{"the service with the policy", svc.Declared, invalidArgument, 1, nil},
		attempt{"PlainService: dubbo-go's 2 retries, every code", plain.Declared, invalidArgument, 3, nil},
		attempt{"LayerService, no policy: its .proto's 3 retries, every code", layer.Declared, invalidArgument, 4, nil},
	)
}

// A cluster the caller chose other than failover wins, and the policy is
// not enforced: failfast makes one attempt whatever the policy says, in
// whatever order the caller gives it and the options of dubboretry (the
// generated constructor passes the .proto's policy after them all).
func TestCallersClusterWins(t *testing.T) {
	cli := testbed.Client(t)
	for _, tc := range []struct {
		name string
		opts []client.ReferenceOption
		code triple_protocol.Code // a code the policy alone would retry
	}{
		{"failfast", []client.ReferenceOption{client.WithClusterFailFast()}, unavailable},
		{"failfast, WithRetryOn", []client.ReferenceOption{client.WithClusterFailFast(), dubboretry.WithRetryOn(internal)}, internal},
		{"WithRetryOn, failfast", []client.ReferenceOption{dubboretry.WithRetryOn(internal), client.WithClusterFailFast()}, internal},
	} {
		failfast := testbed.Try(e2ev1.NewRetryOnService(cli, tc.opts...)).Must(t)
		check(t, attempt{tc.name, failfast.Declared, tc.code, 1, nil})
	}
	// Failover chosen explicitly is the policy's cluster: the policy holds.
	for _, tc := range []struct {
		name     string
		opts     []client.ReferenceOption
		retried  triple_protocol.Code
		notRetry triple_protocol.Code
	}{
		{"failover", []client.ReferenceOption{client.WithClusterFailOver()}, unavailable, internal},
		{"failover, WithRetryOn", []client.ReferenceOption{client.WithClusterFailOver(), dubboretry.WithRetryOn(internal)}, internal, unavailable},
		{"WithRetryOn, failover", []client.ReferenceOption{dubboretry.WithRetryOn(internal), client.WithClusterFailOver()}, internal, unavailable},
	} {
		failover := testbed.Try(e2ev1.NewRetryOnService(cli, tc.opts...)).Must(t)
		check(t,
			attempt{tc.name + ": retried", failover.Declared, tc.retried, 4, nil},
			attempt{tc.name + ": not retried", failover.Declared, tc.notRetry, 1, nil},
		)
	}
}

// onUnavailable is the policy the generator emits for RetryOnService,
// given here by hand for PlainService, whose .proto declares none.
var onUnavailable = dubboretry.Service{Name: "e2e.v1.PlainService", Methods: []dubboretry.Method{
	{Name: "Declared", RetryOn: []triple_protocol.Code{unavailable}, RetryOnFrom: dubboretry.ProtoMethod},
	{Name: "Undeclared"},
}}

// dialPlain creates a PlainService with dubboretry.Dial, the API the
// generated constructors call, and onUnavailable as its .proto policy.
func dialPlain(t *testing.T, cli *client.Client, opts ...client.ReferenceOption) e2ev1.PlainService {
	t.Helper()
	info := &e2ev1.PlainService_ClientInfo
	conn, _, err := dubboretry.Dial(cli, info, &onUnavailable, opts...)
	if err != nil {
		t.Fatal(err)
	}
	svc := new(e2ev1.PlainServiceImpl)
	info.ConnectionInjectFunc(svc, conn)
	return svc
}

// dubboretry.Dial, given a policy by hand: the policy is layer 2, under
// the caller's options of dubboretry, in whatever order they come, and
// under the cluster the caller chose. PlainService declares no retries:
// dubbo-go's 2.
func TestDialByHand(t *testing.T) {
	cli := testbed.Client(t)
	svc := dialPlain(t, cli)
	check(t,
		attempt{"Dial: unavailable", svc.Declared, unavailable, 3, nil},
		attempt{"Dial: invalid argument", svc.Declared, invalidArgument, 1, nil},
		attempt{"Dial, a method it does not name", svc.Undeclared, invalidArgument, 3, nil},
	)
	checkBusiness(t, "Dial", svc.Declared)
	for _, opts := range [][]client.ReferenceOption{
		{dubboretry.WithRetryOn(internal), dubboretry.WithMethodRetryOn("Declared", deadlineCode, unavailable)},
		{dubboretry.WithMethodRetryOn("Declared", deadlineCode, unavailable), dubboretry.WithRetryOn(internal)},
	} {
		method := dialPlain(t, cli, opts...)
		check(t,
			attempt{"WithMethodRetryOn: deadline exceeded", method.Declared, deadlineCode, 3, nil},
			attempt{"WithMethodRetryOn: unavailable", method.Declared, unavailable, 3, nil},
			attempt{"WithMethodRetryOn: internal", method.Declared, internal, 1, nil},
			attempt{"WithMethodRetryOn, other method: WithRetryOn", method.Undeclared, internal, 3, nil},
			attempt{"WithMethodRetryOn, other method: WithRetryOn, unavailable", method.Undeclared, unavailable, 1, nil},
		)
	}
	failfast := dialPlain(t, cli, client.WithClusterFailFast())
	check(t, attempt{"failfast", failfast.Declared, unavailable, 1, nil})
	failover := dialPlain(t, cli, client.WithClusterFailOver())
	check(t, attempt{"failover", failover.Declared, internal, 1, nil})
}
