package registry

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

// The timeout column of docs/design.md, "Timeouts", through ZooKeeper, as
// example/internal/e2e/timeouts_test.go walks it with direct URLs. The
// provider (testbed.Slow) makes the first slow attempts of a call sleep
// for slowSleep, unless the attempt's context ends first; the limit that
// applies decides whether an attempt is cut, and so how many attempts the
// provider sees: a slow attempt under a short limit is cut and retried
// (TimeoutService has 3 retries), one under a long limit answers. The
// limits are far from slowSleep either way, so that the tests count
// attempts and never time anything.
const (
	short     = 300 * time.Millisecond // what the .proto declares, and what the tests set to cut
	slowSleep = 1500 * time.Millisecond
	long      = 5 * time.Second // what the tests set not to cut
	// pastDefault outlasts dubbo-go's default of 3 s. The attempt is cut at
	// 3 s, so the margin costs nothing.
	pastDefault = 4500 * time.Millisecond
)

// timeoutServices are the services of a timeout scenario, one of each
// interface (see TestSecondReferenceFindsNoProvider).
type timeoutServices struct {
	timeout        e2ev1.TimeoutService
	serviceTimeout e2ev1.ServiceTimeoutService
	noTimeout      e2ev1.NoTimeoutService
}

// slowMethod is a unary method of a generated client of the timeout
// services.
type slowMethod func(context.Context, *e2ev1.SlowRequest, ...client.CallOption) (*e2ev1.SlowResponse, error)

// The methods the cases call. TimeoutService: Limited (.proto: 300ms) and
// Unlimited (none); ServiceTimeoutService: Inherit (the service's .proto
// timeout, 300ms) and Override (its own, 5s); NoTimeoutService: Unlimited
// (no .proto timeout in the service: no filter, dubbo-go's behaviour).
var (
	limited   = func(s timeoutServices) slowMethod { return s.timeout.Limited }
	unlimited = func(s timeoutServices) slowMethod { return s.timeout.Unlimited }
	inherit   = func(s timeoutServices) slowMethod { return s.serviceTimeout.Inherit }
	override  = func(s timeoutServices) slowMethod { return s.serviceTimeout.Override }
	noTimeout = func(s timeoutServices) slowMethod { return s.noTimeout.Unlimited }
)

// slowCase is one call of a timeout scenario: its first slow attempts
// sleep for sleep (slowSleep if 0).
type slowCase struct {
	name     string
	method   func(timeoutServices) slowMethod
	slow     uint32
	sleep    time.Duration
	opts     []client.CallOption
	deadline time.Duration // the caller's; 0 for none
	// want: the attempts the provider sees, and the call's code (0: it
	// succeeds).
	attempts uint32
	code     triple_protocol.Code
}

// timeoutScenario is a consumer process with a client made with
// clientOpts, from which it creates a TimeoutService given serviceOpts,
// then a ServiceTimeoutService and a NoTimeoutService given none, and
// makes the calls of cases at once.
func timeoutScenario(name string, clientOpts []client.ClientOption, serviceOpts []client.ReferenceOption, cases ...slowCase) probeScenario {
	return probeScenario{
		name: "timeouts: " + name,
		start: func(cfg consumerConfig) ([]probeCall, []probe, error) {
			cli, err := newClient(cfg, clientOpts...)
			if err != nil {
				return nil, nil, err
			}
			var s timeoutServices
			if s.timeout, err = e2ev1.NewTimeoutService(cli, serviceOpts...); err != nil {
				return nil, nil, err
			}
			if s.serviceTimeout, err = e2ev1.NewServiceTimeoutService(cli); err != nil {
				return nil, nil, err
			}
			if s.noTimeout, err = e2ev1.NewNoTimeoutService(cli); err != nil {
				return nil, nil, err
			}
			fast := func(m slowMethod) probeCall {
				return func(ctx context.Context, id string) error {
					_, err := m(ctx, &e2ev1.SlowRequest{Id: id}, client.WithCallRetries(0))
					return err
				}
			}
			discover := []probeCall{fast(s.timeout.Unlimited), fast(s.serviceTimeout.Inherit), fast(s.noTimeout.Unlimited)}
			probes := make([]probe, len(cases))
			for i, c := range cases {
				sleep := c.sleep
				if sleep == 0 {
					sleep = slowSleep
				}
				m := c.method(s)
				probes[i] = probe{
					name: c.name,
					call: func(ctx context.Context, id string) error {
						_, err := m(ctx, &e2ev1.SlowRequest{Id: id, Slow: c.slow, SleepMs: uint32(sleep / time.Millisecond)}, c.opts...)
						return err
					},
					deadline: c.deadline,
					want:     c.attempts,
					code:     c.code,
				}
			}
			return discover, probes, nil
		},
	}
}

func clientTimeout(d time.Duration) []client.ClientOption {
	return []client.ClientOption{client.WithClientRequestTimeout(d)}
}

func serviceTimeout(opts ...client.ReferenceOption) []client.ReferenceOption { return opts }

func methodTimeout(name string, d time.Duration) client.ReferenceOption {
	return client.WithMethod(&global.MethodConfig{Name: name, RequestTimeout: d.String()})
}

func callTimeout(d time.Duration) []client.CallOption {
	return []client.CallOption{client.WithCallRequestTimeout(d)}
}

// timeoutScenarios walk the rows of the timeout column, each in a consumer
// process of its own, and want the attempts of the direct-URL tests.
var timeoutScenarios = []probeScenario{
	timeoutScenario("no options", nil, nil,
		// Layer 0: dubbo-go's 3 s, where nothing else sets a limit.
		slowCase{name: "0: dubbo-go's 3s cuts a 4.5s attempt", method: unlimited, slow: 1, sleep: pastDefault, attempts: 2},
		slowCase{name: "0: not a 1.5s attempt", method: noTimeout, slow: 1, attempts: 1},
		// Layer 2 over layer 0.
		slowCase{name: "2: the method's .proto timeout", method: limited, slow: 1, attempts: 2},
		slowCase{name: "2: the service's .proto timeout", method: inherit, slow: 1, attempts: 2},
		slowCase{name: "2: the method's .proto timeout beats its service's", method: override, slow: 1, attempts: 1},
		// Layer 4 over layer 2.
		slowCase{name: "4: the call's beats the .proto", method: limited, opts: callTimeout(long), slow: 1, attempts: 1},
		// What a limit does to the attempts of a call.
		slowCase{name: "each retry gets a full limit of its own", method: limited, slow: 3, attempts: 4},
		slowCase{name: "a timed-out attempt counts against the retries", method: limited, slow: 100,
			attempts: 4, code: triple_protocol.CodeDeadlineExceeded},
		slowCase{name: "WithCallRetries(0) makes one attempt", method: limited, slow: 100,
			opts: []client.CallOption{client.WithCallRetries(0)}, attempts: 1, code: triple_protocol.CodeDeadlineExceeded},
		slowCase{name: "the caller's deadline does not lift the .proto's limit", method: limited, slow: 1, deadline: 20 * time.Second, attempts: 2},
		slowCase{name: "the caller's deadline does not lift the call's limit", method: unlimited, slow: 1, deadline: 20 * time.Second,
			opts: callTimeout(short), attempts: 2},
		// Layer 4 on a service whose .proto declares no timeout, where
		// dubbo-go alone ignores it.
		slowCase{name: "4: the call's, on a service without a .proto timeout", method: noTimeout, opts: callTimeout(short), slow: 1, attempts: 2},
	),
	timeoutScenario("WithClientRequestTimeout(300ms)", clientTimeout(short), nil,
		// Layer 1, where the .proto is silent.
		slowCase{name: "1: the client's, on a method without a .proto timeout", method: unlimited, slow: 1, attempts: 2},
		slowCase{name: "2: the .proto beats a shorter client timeout", method: override, slow: 1, attempts: 1},
		slowCase{name: "1: the client's, on a service without a .proto timeout", method: noTimeout, slow: 1, attempts: 2},
		slowCase{name: "1: the client's, not under a caller's deadline, as in dubbo-go", method: noTimeout, slow: 1, deadline: 20 * time.Second, attempts: 1},
		slowCase{name: "4: the call's beats the client's", method: noTimeout, opts: callTimeout(long), slow: 1, attempts: 1},
	),
	timeoutScenario("WithClientRequestTimeout(5s)", clientTimeout(long), nil,
		slowCase{name: "2: the .proto beats a longer client timeout", method: limited, slow: 1, attempts: 2},
		slowCase{name: "4: the call's, on a method without any other", method: unlimited, opts: callTimeout(short), slow: 1, attempts: 2},
	),
	// Layer 3 over layers 2 and 1.
	timeoutScenario("WithClientRequestTimeout(300ms), WithRequestTimeout(5s)", clientTimeout(short), serviceTimeout(client.WithRequestTimeout(long)),
		slowCase{name: "3: the service's beats the .proto", method: limited, slow: 1, attempts: 1},
		slowCase{name: "3: the service's beats the client's", method: unlimited, slow: 1, attempts: 1},
		slowCase{name: "3: only for its service", method: inherit, slow: 1, attempts: 2},
	),
	timeoutScenario("WithRequestTimeout(300ms)", nil, serviceTimeout(client.WithRequestTimeout(short)),
		slowCase{name: "3: the service's, on a method without a .proto timeout", method: unlimited, slow: 1, attempts: 2},
		slowCase{name: "4: the call's beats the service's", method: unlimited, opts: callTimeout(long), slow: 1, attempts: 1},
	),
	timeoutScenario("WithMethod(Limited, 5s)", nil, serviceTimeout(methodTimeout("Limited", long)),
		slowCase{name: "3: the method's beats the .proto", method: limited, slow: 1, attempts: 1},
		slowCase{name: "4: the call's beats the method's", method: limited, opts: callTimeout(short), slow: 1, attempts: 2},
	),
	timeoutScenario("WithRequestTimeout(300ms), then WithMethod(Limited, 5s)", nil,
		serviceTimeout(client.WithRequestTimeout(short), methodTimeout("Limited", long)),
		slowCase{name: "3: the method's beats the service's", method: limited, slow: 1, attempts: 1},
		slowCase{name: "3: the service's still sets the other methods", method: unlimited, slow: 1, attempts: 2},
	),
	timeoutScenario("WithMethod(Limited, 5s), then WithRequestTimeout(300ms)", nil,
		serviceTimeout(methodTimeout("Limited", long), client.WithRequestTimeout(short)),
		slowCase{name: "3: the method's beats the service's, in either order", method: limited, slow: 1, attempts: 1},
		slowCase{name: "3: the service's still sets the other methods", method: unlimited, slow: 1, attempts: 2},
	),
	timeoutScenario("WithMethod(Limited, retries only)", nil,
		serviceTimeout(client.WithMethod(&global.MethodConfig{Name: "Limited", Retries: "3"})),
		slowCase{name: "3: a WithMethod without a timeout keeps the .proto's", method: limited, slow: 1, attempts: 2},
	),
	timeoutScenario("WithMethod(Limited, 5s), then WithMethod(Limited, retries only)", nil,
		serviceTimeout(methodTimeout("Limited", long), client.WithMethod(&global.MethodConfig{Name: "Limited", Retries: "3"})),
		slowCase{name: "3: a later WithMethod without a timeout keeps an earlier one's", method: limited, slow: 1, attempts: 1},
	),
	// No leak: the options given to TimeoutService do not reach the
	// services created after it from the same client: its
	// WithRequestTimeout(5s) would let ServiceTimeoutService.Inherit run
	// past its .proto's 300ms, and its WithMethod(Unlimited, 300ms), with
	// the layering, would cut NoTimeoutService.Unlimited.
	timeoutScenario("no leak", nil, serviceTimeout(client.WithRequestTimeout(long), methodTimeout("Unlimited", short)),
		slowCase{name: "its service's timeout applies to it", method: limited, slow: 1, attempts: 1},
		slowCase{name: "its method's timeout applies to it", method: unlimited, slow: 1, attempts: 2},
		slowCase{name: "its service's timeout does not reach a later service", method: inherit, slow: 1, attempts: 2},
		slowCase{name: "its method's timeout does not reach a later service without .proto timeouts", method: noTimeout, slow: 1, attempts: 1},
	),
}

// TestTimeoutsThroughZooKeeper checks the timeout column of docs/design.md,
// "Timeouts", with providers found through ZooKeeper, registered at the
// interface level and with dubbo-go's default registration: each call of
// each scenario must make as many attempts as with a direct URL.
func TestTimeoutsThroughZooKeeper(t *testing.T) {
	t.Parallel()
	eachRegistration(t, func(t *testing.T, r testbed.Registry) {
		p := startProvider(t, "A", r, testbed.ProviderConfig{Services: testbed.TimeoutServices})
		reports := checkProbeScenarios(t, r, p, timeoutScenarios, nil)
		logProbes(t, timeoutScenarios, reports)
	})
}
