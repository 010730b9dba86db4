package precedence

import (
	"context"
	"fmt"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// The timeout column. The server (testbed.Slow) makes the first attempts of
// a call sleep for SlowSleep, unless the attempt's context ends first; the
// limit that applies decides whether an attempt is cut, and so how many
// attempts the server sees: a slow attempt under a short limit is cut and
// retried (each method has 3 retries), one under a long limit answers. The
// limits are far from SlowSleep either way, so that the tests count
// attempts and never time anything.
const (
	Short     = 300 * time.Millisecond // what the .proto declares, and what the rows set to cut
	SlowSleep = 1500 * time.Millisecond
	Long      = 5 * time.Second // what the rows set not to cut
	// PastDefault outlasts dubbo-go's default of 3 s. The attempt is cut
	// at 3 s, so the margin costs nothing.
	PastDefault = 4500 * time.Millisecond
)

// The methods of the timeout services that the rows of Timeouts call, and
// what their .proto declares.
var (
	Limited         = Method{"TimeoutService", "Limited"}         // a timeout of 300ms
	Unlimited       = Method{"TimeoutService", "Unlimited"}       // none, in a service whose other method has one
	ServiceInherit  = Method{"ServiceTimeoutService", "Inherit"}  // the service's timeout, 300ms
	ServiceOverride = Method{"ServiceTimeoutService", "Override"} // its own, 5s, over the service's
	NoTimeout       = Method{"NoTimeoutService", "Unlimited"}     // none in the whole service: no filter
	timeoutServices = []string{"TimeoutService", "ServiceTimeoutService", "NoTimeoutService"}
)

// A TimeoutRow is a row of the timeout column: the settings of a client,
// and of the timeout services created from it, and the calls that show what
// they decide. It creates TimeoutService, ServiceTimeoutService and
// NoTimeoutService, once each, in that order, and makes its calls at once.
type TimeoutRow struct {
	Name     string
	Settings []Setting
	Calls    []TimeoutCall
}

// A TimeoutCall is a call of a TimeoutRow: its first Slow attempts sleep
// for Sleep (SlowSleep if 0).
type TimeoutCall struct {
	Name     string
	Method   Method
	Settings []Setting // the call's own
	Slow     uint32
	Sleep    time.Duration
	// Deadline is the deadline of the caller's context; 0 for none, and
	// then dubbo-go applies its timeouts.
	Deadline time.Duration
	// Attempts are what the server must see, and Code the code the call
	// must end with (0: success).
	Attempts uint32
	Code     triple_protocol.Code
}

// ClientOptions returns the options of the client of r.
func (r TimeoutRow) ClientOptions() []client.ClientOption { return clientOptions(r.Settings) }

// A SlowCall makes a call of a TimeoutRow on the services Bind created: it
// returns the call's error.
type SlowCall func(ctx context.Context, id string) error

// Bind creates from cli, which must have r's client options
// (ClientOptions), the timeout services, with the options r gives each,
// and returns r's calls, ready to make; and the calls that find the
// services' providers, which answer at once.
func (r TimeoutRow) Bind(cli *client.Client) (calls, discover []SlowCall, err error) {
	methods := make(map[Method]Slow)
	for _, service := range timeoutServices {
		if err := newTimeoutService(cli, service, referenceOptions(r.Settings, service, sameName), methods); err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %v", r.Name, service, err)
		}
	}
	for _, m := range []Method{Unlimited, ServiceInherit, NoTimeout} {
		m := methods[m]
		discover = append(discover, func(ctx context.Context, id string) error {
			_, err := m(ctx, &e2ev1.SlowRequest{Id: id}, client.WithCallRetries(0))
			return err
		})
	}
	for _, c := range r.Calls {
		m := methods[c.Method]
		if m == nil {
			return nil, nil, fmt.Errorf("%s: no method %s", r.Name, c.Method)
		}
		sleep := c.Sleep
		if sleep == 0 {
			sleep = SlowSleep
		}
		opts := callOptions(c.Settings)
		calls = append(calls, func(ctx context.Context, id string) error {
			if c.Deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.Deadline)
				defer cancel()
			}
			_, err := m(ctx, &e2ev1.SlowRequest{Id: id, Slow: c.Slow, SleepMs: uint32(sleep / time.Millisecond)}, opts...)
			return err
		})
	}
	return calls, discover, nil
}

// newTimeoutService creates the generated client of a timeout service,
// and adds its methods to methods.
func newTimeoutService(cli *client.Client, service string, opts []client.ReferenceOption, methods map[Method]Slow) error {
	switch service {
	case "TimeoutService":
		svc, err := e2ev1.NewTimeoutService(cli, opts...)
		if err != nil {
			return err
		}
		methods[Limited], methods[Unlimited] = svc.Limited, svc.Unlimited
	case "ServiceTimeoutService":
		svc, err := e2ev1.NewServiceTimeoutService(cli, opts...)
		if err != nil {
			return err
		}
		methods[ServiceInherit], methods[ServiceOverride] = svc.Inherit, svc.Override
	case "NoTimeoutService":
		svc, err := e2ev1.NewNoTimeoutService(cli, opts...)
		if err != nil {
			return err
		}
		methods[NoTimeout] = svc.Unlimited
	default:
		return fmt.Errorf("no service %s", service)
	}
	return nil
}

// callerDeadline is the deadline of the rows' callers that have one: far
// past every limit.
const callerDeadline = 20 * time.Second

// Timeouts is the column of timeouts of the precedence table
// (docs/design.md, "Timeouts"): which limit applies to each attempt, from
// the layer that wins, and what a limit does to the attempts of a call.
var Timeouts = []TimeoutRow{
	{
		Name: "no options",
		Calls: []TimeoutCall{
			// Layer 0: dubbo-go's 3 s, where nothing else sets a limit.
			{Name: "0: dubbo-go's 3s cuts a 4.5s attempt", Method: Unlimited, Slow: 1, Sleep: PastDefault, Attempts: 2},
			{Name: "0: not a 1.5s attempt", Method: Unlimited, Slow: 1, Attempts: 1},
			{Name: "0: nor on a service without a .proto timeout", Method: NoTimeout, Slow: 1, Attempts: 1},
			// Layer 2 over layer 0.
			{Name: "2: the method's .proto timeout", Method: Limited, Slow: 1, Attempts: 2},
			{Name: "2: the service's .proto timeout", Method: ServiceInherit, Slow: 1, Attempts: 2},
			{Name: "2: the method's .proto timeout beats its service's", Method: ServiceOverride, Slow: 1, Attempts: 1},
			// Layer 4 over layer 2.
			{Name: "4: the call's beats the .proto", Method: Limited, Settings: []Setting{WithCallRequestTimeout(Long)}, Slow: 1, Attempts: 1},
			{Name: "4: the call's, on a service without a .proto timeout", Method: NoTimeout, Settings: []Setting{WithCallRequestTimeout(Short)}, Slow: 1, Attempts: 2},
			// What a limit does to the attempts of a call.
			{Name: "each retry gets a full limit of its own", Method: Limited, Slow: 3, Attempts: 4},
			{Name: "a timed-out attempt counts against the retries", Method: Limited, Slow: 100, Attempts: 4, Code: triple_protocol.CodeDeadlineExceeded},
			{Name: "WithCallRetries(0) makes one attempt", Method: Limited, Settings: []Setting{WithCallRetries(0)}, Slow: 100, Attempts: 1, Code: triple_protocol.CodeDeadlineExceeded},
			{Name: "the caller's deadline does not lift the .proto's limit", Method: Limited, Slow: 1, Deadline: callerDeadline, Attempts: 2},
			{Name: "each retry gets the call's limit too", Method: Unlimited, Settings: []Setting{WithCallRequestTimeout(Short)}, Slow: 2, Attempts: 3},
			{Name: "the caller's deadline does not lift the call's limit", Method: Unlimited, Settings: []Setting{WithCallRequestTimeout(Short)}, Slow: 1, Deadline: callerDeadline, Attempts: 2},
		},
	},
	{
		Name:     "WithClientRequestTimeout(300ms)",
		Settings: []Setting{WithClientRequestTimeout(Short)},
		Calls: []TimeoutCall{
			// Layer 1, where the .proto is silent.
			{Name: "1: the client's, on a method without a .proto timeout", Method: Unlimited, Slow: 1, Attempts: 2},
			{Name: "1: the client's, on a service without a .proto timeout", Method: NoTimeout, Slow: 1, Attempts: 2},
			{Name: "1: the client's, not under a caller's deadline, as in dubbo-go", Method: NoTimeout, Slow: 1, Deadline: callerDeadline, Attempts: 1},
			{Name: "2: the .proto beats a shorter client timeout", Method: ServiceOverride, Slow: 1, Attempts: 1},
			{Name: "4: the call's beats the client's", Method: NoTimeout, Settings: []Setting{WithCallRequestTimeout(Long)}, Slow: 1, Attempts: 1},
		},
	},
	{
		Name:     "WithClientRequestTimeout(5s)",
		Settings: []Setting{WithClientRequestTimeout(Long)},
		Calls: []TimeoutCall{
			{Name: "2: the .proto beats a longer client timeout", Method: Limited, Slow: 1, Attempts: 2},
			{Name: "4: the call's, on a method without any other", Method: Unlimited, Settings: []Setting{WithCallRequestTimeout(Short)}, Slow: 1, Attempts: 2},
		},
	},
	{
		// Layer 3 over layers 2 and 1.
		Name:     "WithClientRequestTimeout(300ms), WithRequestTimeout(5s)",
		Settings: []Setting{WithClientRequestTimeout(Short), WithRequestTimeout(Long).On("TimeoutService"), WithRequestTimeout(Long).On("NoTimeoutService")},
		Calls: []TimeoutCall{
			{Name: "3: the service's beats the .proto", Method: Limited, Slow: 1, Attempts: 1},
			{Name: "3: the service's beats the client's", Method: Unlimited, Slow: 1, Attempts: 1},
			{Name: "3: the service's beats the client's, on a service without a .proto timeout", Method: NoTimeout, Slow: 1, Attempts: 1},
			{Name: "3: only for its service", Method: ServiceInherit, Slow: 1, Attempts: 2},
		},
	},
	{
		Name:     "WithRequestTimeout(300ms)",
		Settings: []Setting{WithRequestTimeout(Short).On("TimeoutService"), WithRequestTimeout(Short).On("NoTimeoutService")},
		Calls: []TimeoutCall{
			{Name: "3: the service's, on a method without a .proto timeout", Method: Unlimited, Slow: 1, Attempts: 2},
			{Name: "3: the service's, on a service without a .proto timeout", Method: NoTimeout, Slow: 1, Attempts: 2},
			{Name: "3: the service's, under a caller's deadline", Method: NoTimeout, Slow: 1, Deadline: callerDeadline, Attempts: 2},
			{Name: "4: the call's beats the service's", Method: Unlimited, Settings: []Setting{WithCallRequestTimeout(Long)}, Slow: 1, Attempts: 1},
			{Name: "4: the call's beats the service's, on a service without a .proto timeout", Method: NoTimeout, Settings: []Setting{WithCallRequestTimeout(Long)}, Slow: 1, Attempts: 1},
		},
	},
	{
		Name:     "WithMethod(Limited, 5s)",
		Settings: []Setting{WithMethodTimeout("Limited", Long).On("TimeoutService"), WithMethodTimeout("Unlimited", Short).On("NoTimeoutService")},
		Calls: []TimeoutCall{
			{Name: "3: the method's beats the .proto", Method: Limited, Slow: 1, Attempts: 1},
			{Name: "3: the method's, on a service without a .proto timeout", Method: NoTimeout, Slow: 1, Attempts: 2},
			{Name: "4: the call's beats the method's", Method: Limited, Settings: []Setting{WithCallRequestTimeout(Short)}, Slow: 1, Attempts: 2},
		},
	},
	{
		Name:     "WithRequestTimeout(300ms), then WithMethod(Limited, 5s)",
		Settings: []Setting{WithRequestTimeout(Short).On("TimeoutService"), WithMethodTimeout("Limited", Long).On("TimeoutService")},
		Calls: []TimeoutCall{
			{Name: "3: the method's beats the service's", Method: Limited, Slow: 1, Attempts: 1},
			{Name: "3: the service's still sets the other methods", Method: Unlimited, Slow: 1, Attempts: 2},
		},
	},
	{
		Name:     "WithMethod(Limited, 5s), then WithRequestTimeout(300ms)",
		Settings: []Setting{WithMethodTimeout("Limited", Long).On("TimeoutService"), WithRequestTimeout(Short).On("TimeoutService")},
		Calls: []TimeoutCall{
			{Name: "3: the method's beats the service's, in either order", Method: Limited, Slow: 1, Attempts: 1},
			{Name: "3: the service's still sets the other methods", Method: Unlimited, Slow: 1, Attempts: 2},
		},
	},
	{
		Name:     "WithMethod(Limited, retries only)",
		Settings: []Setting{WithMethodRetries("Limited", 3).On("TimeoutService")},
		Calls: []TimeoutCall{
			{Name: "3: a WithMethod without a timeout keeps the .proto's", Method: Limited, Slow: 1, Attempts: 2},
		},
	},
	{
		Name:     "WithMethod(Limited, 5s), then WithMethod(Limited, retries only)",
		Settings: []Setting{WithMethodTimeout("Limited", Long).On("TimeoutService"), WithMethodRetries("Limited", 3).On("TimeoutService")},
		Calls: []TimeoutCall{
			{Name: "3: a later WithMethod without a timeout keeps an earlier one's", Method: Limited, Slow: 1, Attempts: 1},
		},
	},
	{
		// The options given to TimeoutService do not reach the services
		// created after it from the same client: its WithRequestTimeout(5s)
		// would let ServiceTimeoutService.Inherit run past its .proto's
		// 300ms, and its WithMethod(Unlimited, 300ms) would cut
		// NoTimeoutService.Unlimited.
		Name:     "no leak",
		Settings: []Setting{WithRequestTimeout(Long).On("TimeoutService"), WithMethodTimeout("Unlimited", Short).On("TimeoutService")},
		Calls: []TimeoutCall{
			{Name: "its service's timeout applies to it", Method: Limited, Slow: 1, Attempts: 1},
			{Name: "its method's timeout applies to it", Method: Unlimited, Slow: 1, Attempts: 2},
			{Name: "its service's timeout does not reach a later service", Method: ServiceInherit, Slow: 1, Attempts: 2},
			{Name: "its method's timeout does not reach a later service without .proto timeouts", Method: NoTimeout, Slow: 1, Attempts: 1},
		},
	},
}
