package policy

import (
	"context"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

const (
	unavailable     = triple_protocol.CodeUnavailable
	invalidArgument = triple_protocol.CodeInvalidArgument
	deadlineCode    = triple_protocol.CodeDeadlineExceeded
	internal        = triple_protocol.CodeInternal
)

// onUnavailable is what the generator will emit for LayerService if its
// .proto said retry_on: [CODE_UNAVAILABLE] for Declared (whose .proto
// default is 3 retries).
var onUnavailable = dubboretry.ServicePolicy{Methods: []dubboretry.MethodPolicy{
	{Name: "Declared", RetryOn: []triple_protocol.Code{unavailable}},
}}

// attempt is one call and the attempts the server should see.
type attempt struct {
	name     string
	method   unary
	code     triple_protocol.Code // the code every attempt fails with
	attempts int
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
		if got := seen.attempts(id); got != c.attempts {
			t.Errorf("%s: the server saw %d attempts, want %d", c.name, got, c.attempts)
		}
	}
}

// retry_on: [CODE_UNAVAILABLE] in the .proto: a code it does not list ends
// the call after one attempt, with that attempt's code; UNAVAILABLE gets
// the retries + 1 attempts. A business error is never retried.
func TestRetryOnFromProto(t *testing.T) {
	cli := newClient(t)
	layer := try(e2ev1.NewLayerService(cli, dubboretry.Defaults(&onUnavailable))).must(t)
	check(t,
		attempt{"unavailable: listed", layer.Declared, unavailable, 4, nil},
		attempt{"invalid argument", layer.Declared, invalidArgument, 1, nil},
		attempt{"deadline exceeded", layer.Declared, deadlineCode, 1, nil},
		attempt{"internal", layer.Declared, internal, 1, nil},
		attempt{"a method without retry_on: dubbo-go's rule", layer.Undeclared, invalidArgument, 3, nil},
		attempt{"WithCallRetries(0) turns retries off", layer.Declared, unavailable, 1, []client.CallOption{client.WithCallRetries(0)}},
		attempt{"WithCallRetries(1)", layer.Declared, unavailable, 2, []client.CallOption{client.WithCallRetries(1)}},
	)
	bizID := id(t, unavailable)
	_, err := layer.Declared(context.Background(), &e2ev1.Request{Id: bizID, Business: true})
	if code := triple_protocol.CodeOf(err); code != triple_protocol.CodeBizError || seen.attempts(bizID) != 1 {
		t.Errorf("business error: %v after %d attempts, want %v after 1", code, seen.attempts(bizID), triple_protocol.CodeBizError)
	}
}

// Layer 3 overrides the .proto's list: WithRetryOn for the whole service,
// WithMethodRetryOn for one method, over WithRetryOn, in any order.
func TestRetryOnOverridden(t *testing.T) {
	cli := newClient(t)
	service := try(e2ev1.NewLayerService(cli, dubboretry.Defaults(&onUnavailable), dubboretry.WithRetryOn(internal))).must(t)
	check(t,
		attempt{"WithRetryOn(internal): internal", service.Declared, internal, 4, nil},
		attempt{"WithRetryOn(internal): unavailable", service.Declared, unavailable, 1, nil},
		attempt{"WithRetryOn(internal): invalid argument", service.Declared, invalidArgument, 1, nil},
		attempt{"WithRetryOn(internal), a method without retry_on", service.Undeclared, internal, 3, nil},
		attempt{"WithRetryOn(internal), a method without retry_on, unavailable", service.Undeclared, unavailable, 1, nil},
	)
	for _, opts := range [][]client.ReferenceOption{
		{dubboretry.Defaults(&onUnavailable), dubboretry.WithRetryOn(internal), dubboretry.WithMethodRetryOn("Declared", deadlineCode, unavailable)},
		{dubboretry.WithMethodRetryOn("Declared", deadlineCode, unavailable), dubboretry.WithRetryOn(internal), dubboretry.Defaults(&onUnavailable)},
	} {
		method := try(e2ev1.NewLayerService(cli, opts...)).must(t)
		check(t,
			attempt{"WithMethodRetryOn: deadline exceeded", method.Declared, deadlineCode, 4, nil},
			attempt{"WithMethodRetryOn: unavailable", method.Declared, unavailable, 4, nil},
			attempt{"WithMethodRetryOn: internal", method.Declared, internal, 1, nil},
			attempt{"WithMethodRetryOn, other method: WithRetryOn", method.Undeclared, internal, 3, nil},
		)
	}
	anyCode := try(e2ev1.NewLayerService(cli, dubboretry.Defaults(&onUnavailable), dubboretry.WithRetryOn())).must(t)
	check(t, attempt{"WithRetryOn(): dubbo-go's rule", anyCode.Declared, invalidArgument, 4, nil})
}

// A policy stays with its service: services created after it from the same
// client, with no policy, retry as dubbo-go does (and install nothing).
func TestPolicyDoesNotLeak(t *testing.T) {
	cli := newClient(t)
	layer := try(e2ev1.NewLayerService(cli, dubboretry.Defaults(&onUnavailable), dubboretry.WithRetryOn(internal))).must(t)
	plain := try(e2ev1.NewPlainService(cli)).must(t)
	bare := try(e2ev1.NewLayerService(cli)).must(t)
	check(t,
		attempt{"the service with the policy", layer.Declared, invalidArgument, 1, nil},
		attempt{"PlainService: dubbo-go's 2 retries, every code", plain.Declared, invalidArgument, 3, nil},
		attempt{"LayerService without the policy: its .proto's 3 retries, every code", bare.Declared, invalidArgument, 4, nil},
	)
}

// A cluster the caller chose other than failover wins, and the policy is
// not enforced: failfast makes one attempt whatever the policy says.
func TestCallersClusterWins(t *testing.T) {
	cli := newClient(t)
	for _, opts := range [][]client.ReferenceOption{
		{client.WithClusterFailFast(), dubboretry.Defaults(&onUnavailable)},
		{dubboretry.Defaults(&onUnavailable), client.WithClusterFailFast()},
	} {
		failfast := try(e2ev1.NewLayerService(cli, opts...)).must(t)
		check(t, attempt{"failfast", failfast.Declared, unavailable, 1, nil})
	}
	// Failover chosen explicitly is the policy's cluster: the policy holds.
	failover := try(e2ev1.NewLayerService(cli, client.WithClusterFailOver(), dubboretry.Defaults(&onUnavailable))).must(t)
	check(t, attempt{"failover", failover.Declared, internal, 1, nil})
}
