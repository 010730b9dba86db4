package dubboretry

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/common"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
)

// These tests apply the options of Dial to a ReferenceOptions as dubbo-go's
// Client.dial does, and look at the reference config that results. The
// end-to-end tests (example/internal/e2e and registry) check the attempts
// that real servers see.

// shared is a client's reference config, which dubbo-go hands to every
// service of the client: clientRetries is client.WithClientRetries.
func shared(clientRetries string) *global.ReferenceConfig {
	return &global.ReferenceConfig{InterfaceName: "shared", Retries: clientRetries, Params: map[string]string{"k": "v"}}
}

// dialRef applies the options Dial gives dubbo-go for svc and opts, as
// Client.dial does (its own options first, then the constructor's), and
// returns the reference config the service ends with.
func dialRef(t *testing.T, ref *global.ReferenceConfig, svc *Service, opts ...client.ReferenceOption) *global.ReferenceConfig {
	t.Helper()
	_, all, err := svc.options(opts)
	if err != nil {
		t.Fatal(err)
	}
	return applyOptions(ref, all...)
}

// dialedParam returns the parameter Dial writes for the cluster, for svc
// created with opts from a client without settings.
func dialedParam(t *testing.T, svc *Service, opts ...client.ReferenceOption) string {
	t.Helper()
	return dialRef(t, shared(""), svc, opts...).Params[paramProto]
}

func applyOptions(ref *global.ReferenceConfig, opts ...client.ReferenceOption) *global.ReferenceConfig {
	o := &client.ReferenceOptions{Reference: ref}
	for _, opt := range opts {
		opt(o)
	}
	return o.Reference
}

// unchanged fails t if ref differs from before, a clone of it.
func unchanged(t *testing.T, what string, before, ref *global.ReferenceConfig) {
	t.Helper()
	if !reflect.DeepEqual(before, ref.Clone()) {
		t.Errorf("%s changed:\nbefore %+v\n after %+v", what, before, ref)
	}
}

// resolved returns the table the cluster reads from ref: what Dial
// resolved.
func resolved(t *testing.T, ref *global.ReferenceConfig) *table {
	t.Helper()
	u := common.NewURLWithOptions()
	for k, v := range ref.Params {
		u.SetParam(k, v)
	}
	tb, err := readTable(u)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// retriesOf returns the retries Dial resolved for the methods of ref, as
// name=retries for those it set, in the order of names.
func retriesOf(t *testing.T, ref *global.ReferenceConfig, names ...string) []string {
	t.Helper()
	tb := resolved(t, ref)
	var out []string
	for _, name := range names {
		if r := tb.rule(name); r.retriesSet {
			out = append(out, name+"="+strconv.Itoa(r.retries))
		}
	}
	return out
}

// timeoutsOf returns the timeouts Dial resolved for the methods of ref, as
// name=timeout for those it set, in the order of names.
func timeoutsOf(t *testing.T, ref *global.ReferenceConfig, names ...string) []string {
	t.Helper()
	tb := resolved(t, ref)
	var out []string
	for _, name := range names {
		if r := tb.rule(name); r.timeout > 0 {
			out = append(out, name+"="+r.timeout.String())
		}
	}
	return out
}

// retryService has .proto retries for two of its three unary methods, and
// a stream.
func retryService() *Service {
	return &Service{Name: "e2e.v1.LayerService", Methods: []Method{
		{Name: "Declared", Retries: 3, RetriesFrom: ProtoMethod},
		{Name: "Never", Retries: 0, RetriesFrom: ProtoService},
		{Name: "Undeclared"},
		{Name: "Chat", Streaming: true},
	}}
}

func TestLayerRetries(t *testing.T) {
	tests := []struct {
		name          string
		clientRetries string
		opts          []client.ReferenceOption
		wantRetries   string   // the service's retries
		wantMethods   []string // its method configs
	}{
		{
			name:        "the .proto's defaults, nothing else",
			wantMethods: []string{"Declared=3", "Never=0"},
		},
		{
			name:          "client retries stay the service's, under the .proto's",
			clientRetries: "5",
			wantRetries:   "5",
			wantMethods:   []string{"Declared=3", "Never=0"},
		},
		{
			name:          "client.WithRetries beats the .proto",
			clientRetries: "5",
			opts:          []client.ReferenceOption{client.WithRetries(1)},
			wantRetries:   "1",
		},
		{
			name:        "client.WithMethod with retries beats the .proto for its method",
			opts:        []client.ReferenceOption{client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "7"})},
			wantMethods: []string{"Declared=7", "Never=0"},
		},
		{
			name: "client.WithMethod with retries beats client.WithRetries",
			opts: []client.ReferenceOption{
				client.WithMethod(&global.MethodConfig{Name: "Never", Retries: "2"}),
				client.WithRetries(1),
			},
			wantRetries: "1",
			wantMethods: []string{"Never=2"},
		},
		{
			name:        "client.WithMethod without retries keeps the .proto's",
			opts:        []client.ReferenceOption{client.WithMethod(&global.MethodConfig{Name: "Declared", LoadBalance: "random"})},
			wantMethods: []string{"Declared=3", "Never=0"},
		},
		{
			name: "a later client.WithMethod without retries keeps an earlier one's",
			opts: []client.ReferenceOption{
				client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "7"}),
				client.WithMethod(&global.MethodConfig{Name: "Declared", LoadBalance: "random"}),
			},
			wantMethods: []string{"Declared=7", "Never=0"},
		},
		{
			name:        "client.WithMethod for a method the .proto says nothing of",
			opts:        []client.ReferenceOption{client.WithMethod(&global.MethodConfig{Name: "Undeclared", Retries: "5"})},
			wantMethods: []string{"Declared=3", "Never=0", "Undeclared=5"},
		},
		{
			name:        "client.WithMethod retries that are not a number say nothing",
			opts:        []client.ReferenceOption{client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "many"})},
			wantMethods: []string{"Declared=3", "Never=0"},
		},
		{
			name:        "nil method configs are passed over",
			opts:        []client.ReferenceOption{func(o *client.ReferenceOptions) { o.Reference.MethodsConfig = append(o.Reference.MethodsConfig, nil) }},
			wantMethods: []string{"Declared=3", "Never=0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := shared(tt.clientRetries)
			before := ref.Clone()
			callers := applyOptions(shared(""), tt.opts...).MethodsConfig
			got := dialRef(t, ref, retryService(), tt.opts...)
			if got == ref {
				t.Fatal("the service kept the client's shared reference config")
			}
			unchanged(t, "the client's shared reference config", before, ref)
			if got.Retries != tt.wantRetries {
				t.Errorf("the service's retries are %q, want %q", got.Retries, tt.wantRetries)
			}
			if got := retriesOf(t, got, "Declared", "Never", "Undeclared", "Chat"); !slices.Equal(got, tt.wantMethods) {
				t.Errorf("resolved retries %q, want %q", got, tt.wantMethods)
			}
			if !reflect.DeepEqual(got.MethodsConfig, callers) {
				t.Errorf("the method configs are %v, want the caller's %v", got.MethodsConfig, callers)
			}
		})
	}
}

// The layering changes neither the caller's method configs nor the
// generated policy, and two services dialled from one client share no
// config.
func TestLayerCopies(t *testing.T) {
	callerRetries := &global.MethodConfig{Name: "Declared", Retries: "7"}
	callerTimeout := &global.MethodConfig{Name: "Declared", RequestTimeout: "1s"}
	callerOther := &global.MethodConfig{Name: "Never", RequestTimeout: "2s"}
	want := []*global.MethodConfig{callerRetries.Clone(), callerTimeout.Clone(), callerOther.Clone()}
	svc := retryService()
	methods := slices.Clone(svc.Methods)

	ref := shared("")
	first := dialRef(t, ref, svc, client.WithMethod(callerRetries), client.WithMethod(callerTimeout), client.WithMethod(callerOther))
	if got := []*global.MethodConfig{callerRetries, callerTimeout, callerOther}; !reflect.DeepEqual(got, want) {
		t.Errorf("the caller's method configs changed: %+v", got)
	}
	if !reflect.DeepEqual(methods, svc.Methods) {
		t.Errorf("the generated policy changed: %+v", svc.Methods)
	}
	if got, want := retriesOf(t, first, "Declared", "Never"), []string{"Declared=7", "Never=0"}; !slices.Equal(got, want) {
		t.Errorf("resolved retries %q, want %q", got, want)
	}
	if got, want := timeoutsOf(t, first, "Declared", "Never"), []string{"Declared=1s", "Never=2s"}; !slices.Equal(got, want) {
		t.Errorf("resolved timeouts %q, want %q", got, want)
	}

	second := dialRef(t, ref, &Service{Name: "other.Service"}, client.WithRetries(4))
	if second.Retries != "4" || len(second.MethodsConfig) != 0 {
		t.Errorf("the second service has retries %q and method configs %v: the first one's leaked", second.Retries, second.MethodsConfig)
	}
	if first.Retries != "" {
		t.Errorf("the second service's client.WithRetries reached the first: retries %q", first.Retries)
	}
	second.Params["k"] = "changed"
	if first.Params["k"] != "v" || ref.Params["k"] != "v" {
		t.Error("two services share the params map of the client's reference config")
	}
}

// timeoutService is a service whose .proto gives one unary method a
// timeout and the other none.
func timeoutService() *Service {
	return &Service{Name: "e2e.v1.TimeoutService", Methods: []Method{
		{Name: "Limited", Timeout: 300 * time.Millisecond, TimeoutFrom: ProtoMethod},
		{Name: "Unlimited"},
		{Name: "Watch", Streaming: true},
	}}
}

func TestLayerTimeouts(t *testing.T) {
	limited := func(timeout string) client.ReferenceOption {
		return client.WithMethod(&global.MethodConfig{Name: "Limited", RequestTimeout: timeout})
	}
	tests := []struct {
		name         string
		svc          *Service
		opts         []client.ReferenceOption
		wantTimeouts []string
	}{
		{
			name:         "the .proto's timeouts, nothing else",
			wantTimeouts: []string{"Limited=300ms"},
		},
		{
			name:         "client.WithRequestTimeout goes to every unary method, over the .proto",
			opts:         []client.ReferenceOption{client.WithRequestTimeout(2 * time.Second)},
			wantTimeouts: []string{"Limited=2s", "Unlimited=2s"},
		},
		{
			name:         "client.WithMethod's timeout beats the .proto's",
			opts:         []client.ReferenceOption{limited("5s")},
			wantTimeouts: []string{"Limited=5s"},
		},
		{
			name:         "client.WithMethod's timeout beats client.WithRequestTimeout, in either order",
			opts:         []client.ReferenceOption{limited("5s"), client.WithRequestTimeout(time.Second)},
			wantTimeouts: []string{"Limited=5s", "Unlimited=1s"},
		},
		{
			name:         "a client.WithMethod without a timeout gets the .proto's, on a copy",
			opts:         []client.ReferenceOption{client.WithMethod(&global.MethodConfig{Name: "Limited", Retries: "1"})},
			wantTimeouts: []string{"Limited=300ms"},
		},
		{
			name:         "a later client.WithMethod without a timeout leaves an earlier one's in force",
			opts:         []client.ReferenceOption{limited("5s"), client.WithMethod(&global.MethodConfig{Name: "Limited", Retries: "1"})},
			wantTimeouts: []string{"Limited=5s"},
		},
		{
			name:         "a service whose .proto says nothing: client.WithRequestTimeout",
			svc:          &Service{Name: "plain", Methods: []Method{{Name: "A"}, {Name: "B"}, {Name: "S", Streaming: true}}},
			opts:         []client.ReferenceOption{client.WithRequestTimeout(100 * time.Millisecond)},
			wantTimeouts: []string{"A=100ms", "B=100ms"},
		},
		{
			name:         "a service whose .proto says nothing: client.WithMethod",
			svc:          &Service{Name: "plain", Methods: []Method{{Name: "A"}, {Name: "B"}}},
			opts:         []client.ReferenceOption{client.WithMethod(&global.MethodConfig{Name: "B", RequestTimeout: "100ms"})},
			wantTimeouts: []string{"B=100ms"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := tt.svc
			if svc == nil {
				svc = timeoutService()
			}
			ref := shared("")
			before := ref.Clone()
			got := dialRef(t, ref, svc, tt.opts...)
			unchanged(t, "the client's shared reference config", before, ref)
			var names []string
			for _, m := range svc.Methods {
				names = append(names, m.Name)
			}
			if got := timeoutsOf(t, got, names...); !slices.Equal(got, tt.wantTimeouts) {
				t.Errorf("resolved timeouts %q, want %q", got, tt.wantTimeouts)
			}
		})
	}
}

// The client's timeout, put aside while the caller's options run, comes
// back to the service; only the caller's is given to each method.
func TestLayerClientTimeout(t *testing.T) {
	ref := shared("")
	ref.RequestTimeout = "4s"
	got := dialRef(t, ref, timeoutService())
	if got.RequestTimeout != "4s" {
		t.Errorf("the service's timeout is %q, want the client's 4s", got.RequestTimeout)
	}
	if got, want := timeoutsOf(t, got, "Limited", "Unlimited"), []string{"Limited=300ms"}; !slices.Equal(got, want) {
		t.Errorf("resolved timeouts %q, want %q", got, want)
	}
}

// Every service Dial creates runs on the cluster of this package, with the
// .proto's retry_on, backoff and budget as its layer-2 parameter, unless
// the caller chose another cluster.
func TestLayerCluster(t *testing.T) {
	svc := &Service{Name: "s", Methods: []Method{
		{Name: "M", RetryOn: []triple_protocol.Code{triple_protocol.CodeUnavailable}, RetryOnFrom: ProtoService},
	}}
	mine := map[string]string{"mine": "1"}
	got := dialRef(t, shared(""), svc, client.WithParams(mine))
	if got.Cluster != ClusterName || got.Params[paramProto] != "m.M-retryon-unavailable" || got.Params["mine"] != "1" {
		t.Errorf("cluster %q, params %v", got.Cluster, got.Params)
	}
	if len(mine) != 1 {
		t.Errorf("the caller's params map was written: %v", mine)
	}
	for _, opt := range []client.ReferenceOption{client.WithClusterFailOver(), nil} {
		opts := []client.ReferenceOption{opt}
		if opt == nil {
			opts = nil
		}
		if got := dialRef(t, shared(""), &Service{Name: "plain"}, opts...); got.Cluster != ClusterName {
			t.Errorf("a service without a .proto policy has the cluster %q, want %q", got.Cluster, ClusterName)
		}
	}
	if got := dialRef(t, shared(""), svc, client.WithClusterFailFast()); got.Cluster != "failfast" {
		t.Errorf("the caller chose failfast, and the service has the cluster %q", got.Cluster)
	}
}

// With publish_defaults, the caller's client.WithRetries goes to each
// method with a .proto default, unless the caller's client.WithMethod sets
// the method's retries: a provider's published method value would beat
// the consumer's service value in the merged URL.
func TestLayerPublished(t *testing.T) {
	svc := retryService()
	Publish(svc)
	tests := []struct {
		name        string
		opts        []client.ReferenceOption
		wantMethods []string
	}{
		{
			name:        "no service retries: the .proto's",
			wantMethods: []string{"Declared=3", "Never=0"},
		},
		{
			name:        "client.WithRetries goes to every method with a .proto default",
			opts:        []client.ReferenceOption{client.WithRetries(1)},
			wantMethods: []string{"Declared=1", "Never=1"},
		},
		{
			name: "but not to one whose client.WithMethod sets retries",
			opts: []client.ReferenceOption{
				client.WithRetries(1),
				client.WithMethod(&global.MethodConfig{Name: "Never", Retries: "5"}),
				client.WithMethod(&global.MethodConfig{Name: "Never", LoadBalance: "random"}),
			},
			wantMethods: []string{"Declared=1", "Never=5"},
		},
		{
			name:        "a client.WithMethod without retries gets them, on a copy",
			opts:        []client.ReferenceOption{client.WithMethod(&global.MethodConfig{Name: "Never", LoadBalance: "random"}), client.WithRetries(2)},
			wantMethods: []string{"Declared=2", "Never=2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dialRef(t, shared("5"), svc, tt.opts...)
			if got := retriesOf(t, got, "Declared", "Never", "Undeclared"); !slices.Equal(got, tt.wantMethods) {
				t.Errorf("resolved retries %q, want %q", got, tt.wantMethods)
			}
		})
	}
	// Another Service value with the same name is not published.
	if got := retriesOf(t, dialRef(t, shared("5"), retryService(), client.WithRetries(1)), "Declared", "Never"); len(got) != 0 {
		t.Errorf("an unpublished service: resolved retries %q, want none", got)
	}
}

// A provider publishes the .proto's retries and timeouts of its methods on
// its URL, where it set nothing above them.
func TestPublishedDefaults(t *testing.T) {
	Publish(&Service{Name: "shop.v1.Cart", Methods: []Method{
		{Name: "Get", Retries: 3, RetriesFrom: ProtoMethod},
		{Name: "Put", Retries: 0, RetriesFrom: ProtoService, Timeout: 300 * time.Millisecond, TimeoutFrom: ProtoFile},
		{Name: "List"},
	}})
	tests := []struct {
		name   string
		params map[string]string // the provider's own
		want   map[string]string // the published ones
	}{
		{name: "nothing set by the provider",
			want: map[string]string{"methods.Get.retries": "3", "methods.Put.retries": "0", "methods.Put.timeout": "300ms"}},
		{name: "the provider's retries for the service win",
			params: map[string]string{"retries": "4"},
			want:   map[string]string{"methods.Put.timeout": "300ms"}},
		{name: "the provider's retries for a method win",
			params: map[string]string{"methods.Get.retries": "6"},
			want:   map[string]string{"methods.Put.retries": "0", "methods.Put.timeout": "300ms"}},
		{name: "the provider's timeout for the service wins",
			params: map[string]string{"timeout": "1s"},
			want:   map[string]string{"methods.Get.retries": "3", "methods.Put.retries": "0"}},
		{name: "an empty value is no setting",
			params: map[string]string{"retries": "", "methods.Get.retries": ""},
			want:   map[string]string{"methods.Get.retries": "3", "methods.Put.retries": "0", "methods.Put.timeout": "300ms"}},
	}
	keys := []string{"methods.Get.retries", "methods.Put.retries", "methods.Put.timeout", "methods.List.retries", "methods.List.timeout"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := common.NewURLWithOptions(common.WithParamsValue("interface", "shop.v1.Cart"))
			for k, v := range tt.params {
				u.SetParam(k, v)
			}
			publisher{}.PostProcessServiceConfig(u)
			for _, key := range keys {
				want, ok := tt.want[key]
				if !ok {
					want = tt.params[key]
				}
				if got := u.GetParam(key, ""); got != want {
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}
		})
	}

	other := common.NewURLWithOptions(common.WithParamsValue("interface", "shop.v1.Other"))
	publisher{}.PostProcessServiceConfig(other)
	if got := other.GetParam("methods.Get.retries", ""); got != "" {
		t.Errorf("another service's URL got methods.Get.retries = %q", got)
	}
}

// A policy this package cannot apply fails Dial with an error that names
// it, and never panics.
func TestServiceInvalid(t *testing.T) {
	for _, tc := range []struct {
		svc  *Service
		want string
	}{
		{&Service{Name: "s", Methods: []Method{{Name: "M", BackoffFrom: ProtoMethod}}}, "method M: backoff initial is 0s"},
		{&Service{Name: "s", Methods: []Method{{Name: "M"}, {Name: "M"}}}, "method M: listed twice"},
		{&Service{Name: "s", Methods: []Method{{Name: "a/b"}}}, `method name "a/b"`},
		{&Service{Name: "s", BudgetFrom: ProtoService, Budget: Budget{Ratio: -1}}, "budget ratio is -1"},
		{&Service{Name: "s", BudgetFrom: ProtoMethod, Budget: Budget{Ratio: 1}}, "budget from (retry.v1.method)"},
		{&Service{Name: "s", Methods: []Method{{Name: "M", RetriesFrom: ServiceOption}}}, "retries from service option"},
		{&Service{Name: "s", Methods: []Method{{Name: "M", Streaming: true, TimeoutFrom: ProtoFile, Timeout: time.Second}}}, "timeout set on a stream"},
		{&Service{Name: "s", Methods: []Method{{Name: "M", TimeoutFrom: ProtoFile}}}, "timeout is 0s"},
		{&Service{Name: "s", Methods: []Method{{Name: "M", RetryOnFrom: ProtoFile}}}, "retry_on is set but lists no code"},
		{&Service{Name: "s", Methods: []Method{{Name: "M", RetryOnFrom: ProtoFile, RetryOn: []triple_protocol.Code{0}}}}, "retry on code 0"},
	} {
		_, _, err := tc.svc.options(nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "dubboretry: the .proto policy of s: ") {
			t.Errorf("%+v: error %v, want one containing %q", tc.svc, err, tc.want)
		}
	}
}

// An option of this package given to a reference that Dial did not create
// (cli.DialWithInfo, as protoc-gen-go-triple's code calls it) writes that
// reference alone: a service created later from the same client keeps its
// .proto's policy.
func TestOptionsOnAPlainReferenceLeakNowhere(t *testing.T) {
	ref := shared("")
	before := ref.Clone()
	plain := applyOptions(ref,
		WithRetryOn(triple_protocol.CodeInternal), WithMethodRetryOn("M", triple_protocol.CodeAborted),
		WithBackoff(time.Second, 0, 0), WithoutMethodBackoff("M"), WithBudget(1, 0), WithoutBudget(), WithJitterSeed(7))
	unchanged(t, "the client's shared reference config", before, ref)
	if plain.Cluster != ClusterName || plain.Params[paramOptions] == "" || plain.Params[paramSeed] != "7" {
		t.Errorf("the plain reference got cluster %q, params %v", plain.Cluster, plain.Params)
	}

	svc := &Service{Name: "s", Methods: []Method{
		{Name: "M", Retries: 3, RetriesFrom: ProtoMethod, RetryOn: []triple_protocol.Code{triple_protocol.CodeUnavailable}, RetryOnFrom: ProtoMethod},
	}}
	later := dialRef(t, ref, svc)
	if v, ok := later.Params[paramOptions]; ok {
		t.Errorf("the later service has the plain reference's options: %s=%q", paramOptions, v)
	}
	u := common.NewURLWithOptions(common.WithParams(nil))
	for k, v := range later.Params {
		u.SetParam(k, v)
	}
	tb, err := readTable(u)
	if err != nil {
		t.Fatal(err)
	}
	if r := tb.rule("M"); r.retryOn != setOf([]triple_protocol.Code{triple_protocol.CodeUnavailable}) {
		t.Errorf("the later service retries M on %v, want its .proto's unavailable", r.retryOn.codes())
	}
}

// The effective policy says each value after every layer below the call,
// and which layer set it; hedging goes only to idempotent methods, whoever
// asks for it.
func TestEffectivePolicy(t *testing.T) {
	svc := &Service{Name: "s", Methods: []Method{
		{Name: "Declared", Retries: 3, RetriesFrom: ProtoMethod, Timeout: time.Second, TimeoutFrom: ProtoService},
		{Name: "Read", Idempotent: true, Hedging: Hedging{MaxAttempts: 2, Delay: time.Millisecond}, HedgingFrom: ProtoFile},
		{Name: "Write"},
		{Name: "Watch", Streaming: true},
	}, Budget: Budget{Ratio: 0.1, MinRetriesPerSecond: 10}, BudgetFrom: ProtoService}
	l, all, err := svc.options([]client.ReferenceOption{
		client.WithMethod(&global.MethodConfig{Name: "Write", Retries: "4", RequestTimeout: "2s"}),
		client.WithRequestTimeout(3 * time.Second),
		WithRetryOn(triple_protocol.CodeAborted),
		WithMethodHedging("Write", Hedging{MaxAttempts: 3, DelayPercentile: 90}),
		WithoutBudget(),
	})
	if err != nil {
		t.Fatal(err)
	}
	applyOptions(shared("7"), all...)
	p := l.policy
	if len(p.Methods) != 3 {
		t.Fatalf("%d methods, want the 3 unary ones", len(p.Methods))
	}
	aborted := []triple_protocol.Code{triple_protocol.CodeAborted}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"Declared retries", p.Method("Declared").Retries, Value[int]{3, ProtoMethod}},
		{"Read retries: its copies", p.Method("Read").Retries, Value[int]{1, ProtoFile}},
		{"Write retries", p.Method("Write").Retries, Value[int]{4, MethodOption}},
		{"Declared timeout", p.Method("Declared").Timeout, Value[time.Duration]{3 * time.Second, ServiceOption}},
		{"Write timeout", p.Method("Write").Timeout, Value[time.Duration]{2 * time.Second, MethodOption}},
		{"Read retry_on", p.Method("Read").RetryOn, Value[[]triple_protocol.Code]{aborted, ServiceOption}},
		{"Read hedging", p.Method("Read").Hedging, Value[Hedging]{Hedging{2, time.Millisecond, 0}, ProtoFile}},
		{"Write hedging: not idempotent", p.Method("Write").Hedging, Value[Hedging]{From: DubboDefault}},
		{"Declared backoff", p.Method("Declared").Backoff, Value[Backoff]{From: DubboDefault}},
		{"budget", p.Budget, Value[Budget]{From: ServiceOption}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.what, c.got, c.want)
		}
	}
	if s := p.String(); !strings.Contains(s, "Declared") || !strings.Contains(s, "budget: none by service option") {
		t.Errorf("String():\n%s", s)
	}
}

// A hedged method's copies are its retries: the retries the caller sets
// when creating the service cap the .proto's hedging, and hedging the
// caller asks for is not capped by them.
func TestHedgedRetries(t *testing.T) {
	three := Hedging{MaxAttempts: 3, Delay: time.Millisecond}
	svc := &Service{Name: "s", Methods: []Method{
		{Name: "Read", Idempotent: true, Hedging: three, HedgingFrom: ProtoMethod},
	}}
	for _, c := range []struct {
		name          string
		clientRetries string
		opts          []client.ReferenceOption
		retries       Value[int]
		hedging       Value[Hedging]
	}{
		{"the .proto's", "", nil, Value[int]{2, ProtoMethod}, Value[Hedging]{three, ProtoMethod}},
		{"the client's retries are below the .proto", "0", nil, Value[int]{2, ProtoMethod}, Value[Hedging]{three, ProtoMethod}},
		{"WithRetries(1) caps the copies at 2", "", []client.ReferenceOption{client.WithRetries(1)},
			Value[int]{1, ProtoMethod}, Value[Hedging]{Hedging{2, time.Millisecond, 0}, ProtoMethod}},
		{"WithRetries(5) does not raise them", "", []client.ReferenceOption{client.WithRetries(5)},
			Value[int]{2, ProtoMethod}, Value[Hedging]{three, ProtoMethod}},
		{"WithMethod Retries 0 turns hedging off", "", []client.ReferenceOption{
			client.WithMethod(&global.MethodConfig{Name: "Read", Retries: "0"})},
			Value[int]{0, MethodOption}, Value[Hedging]{From: MethodOption}},
		{"WithHedging is not capped by WithRetries", "", []client.ReferenceOption{
			client.WithRetries(0), WithHedging(Hedging{MaxAttempts: 4, Delay: time.Second})},
			Value[int]{3, ServiceOption}, Value[Hedging]{Hedging{4, time.Second, 0}, ServiceOption}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, all, err := svc.options(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			ref := applyOptions(shared(c.clientRetries), all...)
			read := l.policy.Method("Read")
			if read.Retries != c.retries {
				t.Errorf("retries: %+v, want %+v", read.Retries, c.retries)
			}
			if read.Hedging != c.hedging {
				t.Errorf("hedging: %+v, want %+v", read.Hedging, c.hedging)
			}
			if got := resolved(t, ref).rule("Read").hedging; got != c.hedging.Value {
				t.Errorf("the cluster hedges with %+v, want %+v", got, c.hedging.Value)
			}
		})
	}
}
