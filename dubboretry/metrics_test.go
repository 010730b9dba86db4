package dubboretry

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/cluster/directory/static"
	"dubbo.apache.org/dubbo-go/v3/common"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/global"
	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/invocation"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// The metrics themselves are read with the OpenTelemetry SDK in the example
// module (example/internal/metrics), which this module must not require.
// Here: what they cost a process that sets no MeterProvider, and how a
// service finds its provider and attributes.

// metricsPolicy is a policy with every part a unary call pays for: retry_on
// and a budget (no backoff, so that a retry waits no timer).
var metricsPolicy = &Service{
	Methods: []Method{{Name: "Declared", Retries: 3, RetriesFrom: ProtoMethod,
		RetryOn: []triple_protocol.Code{triple_protocol.CodeUnavailable}, RetryOnFrom: ProtoMethod}},
	Budget: Budget{Ratio: 1, MinRetriesPerSecond: 1_000_000}, BudgetFrom: ProtoService,
}

// everyOther fails the odd attempts with UNAVAILABLE: with one provider,
// every call fails once and succeeds on its retry.
var unavailableErr = tripleErr(triple_protocol.CodeUnavailable)

func everyOther(n int) error {
	if n%2 == 1 {
		return unavailableErr
	}
	return nil
}

// metricsRig is a service over one provider, with the global MeterProvider
// (never set in this package's tests: OpenTelemetry's no-op) or, with
// noMetrics, none at all.
func metricsRig(t testing.TB, iface string, noMetrics bool, fail func(int) error) func() error {
	t.Helper()
	params := paramsOf(t, 3, protoPolicy(metricsPolicy))
	// A budget of its own.
	params.Set(constant.InterfaceKey, iface)
	p := &provider{url: serviceURL(t, 22000, params), fail: fail}
	inv := newInvoker(static.NewDirectory([]protocolbase.Invoker{p}), env{noMetrics: noMetrics})
	ctx := context.Background()
	return func() error {
		i := invocation.NewRPCInvocationWithOptions(invocation.WithMethodName("Declared"))
		i.SetAttribute(constant.CallTypeKey, constant.CallUnary)
		return inv.Invoke(ctx, i).Error()
	}
}

// A process that sets no MeterProvider pays no allocation for the metrics:
// a call of a service recording with the global (no-op) provider allocates
// no more than one recording none, whether it succeeds at once or after a
// retry.
func TestMetricsCostNoAllocation(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(int) error
	}{
		{"success", nil},
		{"a retry", everyOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The least of a few measures: AllocsPerRun counts what the
			// process's other goroutines allocate meanwhile too.
			allocs := func(noMetrics bool) float64 {
				call := metricsRig(t, fmt.Sprintf("metrics.Allocs.%s.%v", tc.name, noMetrics), noMetrics, tc.fail)
				least := math.Inf(1)
				for range 5 {
					least = min(least, testing.AllocsPerRun(500, func() {
						if err := call(); err != nil {
							t.Fatal(err)
						}
					}))
				}
				return least
			}
			without, with := allocs(true), allocs(false)
			if with > without {
				t.Errorf("a call allocates %v times with the global no-op MeterProvider, %v without metrics", with, without)
			}
			t.Logf("allocations a call: %v without metrics, %v with the global no-op provider", without, with)
		})
	}
}

// BenchmarkClusterMetrics is a call of the cluster on a provider that
// answers at once (result=ok), or fails the first attempt and answers the
// retry (result=retry), recording no metrics (metrics=off) or recording
// them with the global MeterProvider, unset: OpenTelemetry's no-op
// (metrics=noop). The cost with the SDK is measured in the example module
// (example/internal/metrics).
func BenchmarkClusterMetrics(b *testing.B) {
	for _, result := range []string{"ok", "retry"} {
		var fail func(int) error
		if result == "retry" {
			fail = everyOther
		}
		for _, mode := range []string{"off", "noop"} {
			b.Run("result="+result+"/metrics="+mode, func(b *testing.B) {
				call := metricsRig(b, "bench.Metrics."+result+"."+mode, mode == "off", fail)
				b.ReportAllocs()
				for b.Loop() {
					if err := call(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// testProvider is a MeterProvider that is a pointer, to tell apart from
// the global one. It records nothing.
type testProvider struct{ noop.MeterProvider }

// joined returns the invoker of a service with the parameters that opts
// give it, and methods on its URL.
func joined(t *testing.T, methods []string, opts ...client.ReferenceOption) *invoker {
	t.Helper()
	// WithoutBackoff: any option of this package, which selects the cluster.
	params := paramsOf(t, 3, append([]client.ReferenceOption{WithoutBackoff()}, opts...)...)
	u := serviceURL(t, 23000, params)
	u.Methods = methods
	return newInvoker(static.NewDirectory([]protocolbase.Invoker{&provider{url: u}}), env{})
}

// WithMeterProvider reaches the cluster of its service through the
// registry, and nil, or an id the registry does not know, is the global
// provider.
func TestWithMeterProvider(t *testing.T) {
	mp := &testProvider{}
	c := joined(t, nil, WithMeterProvider(mp))
	if c.metrics.in != instrumentsOf(mp) {
		t.Error("the service does not record with the provider of WithMeterProvider")
	}
	global := instrumentsOf(otel.GetMeterProvider())
	if c := joined(t, nil, WithMeterProvider(mp), WithMeterProvider(nil)); c.metrics.in != global {
		t.Error("WithMeterProvider(nil) after WithMeterProvider(mp): the service does not record with the global provider")
	}
	if c := joined(t, nil, WithRetryOn()); c.metrics.in != global {
		t.Error("without WithMeterProvider, the service does not record with the global provider")
	}
	unknown := func(o *client.ReferenceOptions) { setParam(o, paramMeter, "999999") }
	if c := joined(t, nil, unknown); c.metrics.in != global {
		t.Error("an unknown provider id: the service does not record with the global provider")
	}
	if a, b := meterProviders.add(mp), meterProviders.add(mp); a != b {
		t.Errorf("one provider registered twice: ids %s and %s", a, b)
	}
	if a, b := meterProviders.add(&testProvider{}), meterProviders.add(mp); a == b {
		t.Errorf("two providers share id %s", a)
	}
}

// WithMeterProvider writes the reference it is given to alone, even a
// reference that shares its config with others (a plain one), and selects
// the cluster.
func TestWithMeterProviderWritesItsReferenceAlone(t *testing.T) {
	shared := &global.ReferenceConfig{Cluster: constant.ClusterKeyFailover, Params: map[string]string{}}
	o := &client.ReferenceOptions{Reference: shared}
	WithMeterProvider(&testProvider{})(o)
	if o.Reference == shared || len(shared.Params) != 0 || shared.Cluster != constant.ClusterKeyFailover {
		t.Errorf("WithMeterProvider wrote the shared config: %+v", shared)
	}
	if o.Reference.Params[paramMeter] == "" || o.Reference.Cluster != ClusterName {
		t.Errorf("WithMeterProvider: params %v, cluster %q; want %s and cluster %s", o.Reference.Params, o.Reference.Cluster, paramMeter, ClusterName)
	}
}

// attributesOf returns the attributes that opts record.
func attributesOf(opts []metric.RecordOption) attribute.Set {
	return metric.NewRecordConfig(opts).Attributes()
}

// Every method gets rpc.service and rpc.method, made on its first call
// (in a slot made at join for the methods of its URL), and
// rpc.grpc.status_code for each code.
func TestMetricsAttributes(t *testing.T) {
	c := joined(t, []string{"Declared", "Undeclared"})
	if len(c.metrics.slots) != 2 || len(c.metrics.listed) != 2 {
		t.Fatalf("%d slots made at join, want the URL's 2", len(c.metrics.slots))
	}
	for i := range c.metrics.slots {
		if c.metrics.slots[i].Load() != nil {
			t.Errorf("slot %d: metrics made before the method's first call", i)
		}
	}
	for _, method := range []string{"Declared", "Other"} {
		m := c.metrics.method(method)
		if m != c.metrics.method(method) {
			t.Errorf("%s: a second call made its metrics again", method)
		}
		want := attribute.NewSet(attribute.String("rpc.service", "e2e.v1.LayerService"), attribute.String("rpc.method", method))
		if got := attributesOf(m.rec); !got.Equals(&want) {
			t.Errorf("%s: attributes %v, want %v", method, got.Encoded(attribute.DefaultEncoder()), want.Encoded(attribute.DefaultEncoder()))
		}
		if got := metric.NewAddConfig(m.add).Attributes(); !got.Equals(&want) {
			t.Errorf("%s: counter attributes %v, want %v", method, got.Encoded(attribute.DefaultEncoder()), want.Encoded(attribute.DefaultEncoder()))
		}
		for code := range codeSlots {
			got := attributesOf(m.withCode(code))
			if v, ok := got.Value("rpc.grpc.status_code"); !ok || v.AsInt64() != int64(code) || got.Len() != 3 {
				t.Errorf("%s, code %d: attributes %v", method, code, got.Encoded(attribute.DefaultEncoder()))
			}
		}
	}
}

// A service records at most maxUnlistedMethods methods that its URL does
// not list on their own; any other as _OTHER.
func TestMetricsUnlistedMethodsBounded(t *testing.T) {
	c := joined(t, nil)
	for i := range maxUnlistedMethods + 10 {
		c.metrics.method(fmt.Sprintf("M%d", i))
	}
	if n := len(*c.metrics.more.Load()); n != maxUnlistedMethods+1 {
		t.Errorf("%d methods recorded, want %d and _OTHER", n, maxUnlistedMethods)
	}
	want := attribute.String("rpc.method", otherMethod)
	got := attributesOf(c.metrics.method("Another").rec)
	if v, _ := got.Value("rpc.method"); v != want.Value {
		t.Errorf("a method beyond the bound is recorded as %v, want %v", v.Emit(), otherMethod)
	}
}

// An attempt is recorded with its Triple code: 0 for a success, UNKNOWN for
// an error without a code, 17 for a business error.
func TestStatusCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{tripleErr(triple_protocol.CodeInvalidArgument), 3},
		{tripleErr(triple_protocol.CodeUnavailable), 14},
		{tripleErr(triple_protocol.CodeUnauthenticated), 16},
		{bizErr(), 17},
		{fmt.Errorf("no code"), 2},
	} {
		if got := statusCode(tc.err); got != tc.want {
			t.Errorf("statusCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

// A registry directory's URL carries the consumer's URL as its SubURL: the
// service's name and methods are the consumer's.
func TestMetricsOfRegistryURL(t *testing.T) {
	consumer := common.NewURLWithOptions(common.WithPath("e2e.v1.RegService"), common.WithMethods([]string{"A"}),
		common.WithParams(url.Values{constant.InterfaceKey: {"e2e.v1.RegService"}}))
	reg := common.NewURLWithOptions(common.WithProtocol("registry"))
	reg.SubURL = consumer
	s := newServiceMetrics(policyURL(reg))
	want := attribute.NewSet(attribute.String("rpc.service", "e2e.v1.RegService"), attribute.String("rpc.method", "A"))
	if _, ok := s.listed["A"]; !ok {
		t.Fatal("the consumer's method A is not listed")
	}
	if got := attributesOf(s.method("A").rec); !got.Equals(&want) {
		t.Errorf("attributes %v, want %v", got.Encoded(attribute.DefaultEncoder()), want.Encoded(attribute.DefaultEncoder()))
	}
	if n := s.more.Load(); n != nil {
		t.Errorf("the listed method A was added to the unlisted ones: %v", *n)
	}
}
