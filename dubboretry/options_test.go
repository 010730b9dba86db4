package dubboretry

import (
	"maps"
	"strings"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
)

const (
	unavailable = triple_protocol.CodeUnavailable
	internal    = triple_protocol.CodeInternal
	deadline    = triple_protocol.CodeDeadlineExceeded
	aborted     = triple_protocol.CodeAborted
)

// tableOf returns the table a service given opts resolves.
func tableOf(t *testing.T, opts ...client.ReferenceOption) *table {
	t.Helper()
	tb, err := readTable(serviceURL(t, 1, paramsOf(t, 2, opts...)))
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

var (
	ms       = time.Millisecond
	protoBkf = Backoff{Initial: 10 * ms, Max: 100 * ms, Multiplier: 2}
	declared = &Service{
		Methods: []Method{
			{Name: "Declared", RetryOn: []triple_protocol.Code{unavailable}, RetryOnFrom: ProtoMethod, Backoff: protoBkf, BackoffFrom: ProtoMethod},
			{Name: "Never", RetryOn: []triple_protocol.Code{aborted}, RetryOnFrom: ProtoMethod},
			{Name: "Undeclared"},
			{Name: "Other"},
		},
		Budget: Budget{Ratio: 0.1, MinRetriesPerSecond: 10}, BudgetFrom: ProtoService,
	}
)

func checkRule(t *testing.T, tb *table, method string, retryOn []triple_protocol.Code, backoff Backoff) {
	t.Helper()
	r := tb.rule(method)
	if r.retryOn != setOf(retryOn) || r.backoff != backoff {
		t.Errorf("%s: retry on %v, backoff %+v; want %v, %+v", method, r.retryOn.codes(), r.backoff, retryOn, backoff)
	}
}

// Layer 2 alone: the .proto's rules, dubbo-go's for the other methods.
func TestLayerProtoAlone(t *testing.T) {
	tb := tableOf(t, protoPolicy(declared))
	checkRule(t, tb, "Declared", []triple_protocol.Code{unavailable}, protoBkf)
	checkRule(t, tb, "Never", []triple_protocol.Code{aborted}, Backoff{})
	checkRule(t, tb, "Undeclared", nil, Backoff{})
	if tb.budget == nil || *tb.budget != (Budget{0.1, 10}) {
		t.Errorf("budget %+v, want the .proto's", tb.budget)
	}
}

// Layer 3 over layer 2, each field on its own: layer-3 method > layer-3
// service > layer-2 method; the budget: layer 3 > layer 2. The order of
// the options does not matter between layers.
func TestLayerOverrides(t *testing.T) {
	callerBkf := Backoff{Initial: 50 * ms, Max: 5 * time.Second, Multiplier: 2}
	methodBkf := Backoff{Initial: time.Millisecond, Max: 2 * ms, Multiplier: 1.5}
	defaults := protoPolicy(declared)
	caller := []client.ReferenceOption{
		WithRetryOn(internal),
		WithMethodRetryOn("Never", deadline, unavailable),
		WithBackoff(50*ms, 0, 0),
		WithMethodBackoff("Undeclared", time.Millisecond, 2*ms, 1.5),
		WithBudget(0.5, 0),
	}
	for _, opts := range [][]client.ReferenceOption{
		append([]client.ReferenceOption{defaults}, caller...),
		append(append([]client.ReferenceOption{}, caller...), defaults),
		{caller[0], defaults, caller[1], caller[2], caller[3], caller[4]},
	} {
		tb := tableOf(t, opts...)
		checkRule(t, tb, "Declared", []triple_protocol.Code{internal}, callerBkf)
		checkRule(t, tb, "Never", []triple_protocol.Code{deadline, unavailable}, callerBkf)
		checkRule(t, tb, "Undeclared", []triple_protocol.Code{internal}, methodBkf)
		checkRule(t, tb, "Other", []triple_protocol.Code{internal}, callerBkf)
		if tb.budget == nil || *tb.budget != (Budget{0.5, 0}) {
			t.Errorf("budget %+v, want the caller's", tb.budget)
		}
	}
}

// The Without options and an empty WithRetryOn turn the .proto's settings
// back to dubbo-go's; within layer 3 the later option wins.
func TestLayerWithout(t *testing.T) {
	tb := tableOf(t, protoPolicy(declared), WithRetryOn(), WithoutBackoff(), WithoutBudget())
	checkRule(t, tb, "Declared", nil, Backoff{})
	checkRule(t, tb, "Never", nil, Backoff{})
	if tb.budget != nil {
		t.Errorf("budget %+v after WithoutBudget", tb.budget)
	}

	tb = tableOf(t, protoPolicy(declared), WithoutMethodBackoff("Declared"), WithBackoff(time.Second, 0, 0))
	checkRule(t, tb, "Declared", []triple_protocol.Code{unavailable}, Backoff{})
	checkRule(t, tb, "Never", []triple_protocol.Code{aborted}, Backoff{time.Second, 100 * time.Second, 2})

	tb = tableOf(t, protoPolicy(declared), WithBudget(0.2, 1), WithoutBudget(), WithBudget(0.3, 2))
	if tb.budget == nil || *tb.budget != (Budget{0.3, 2}) {
		t.Errorf("budget %+v, want the last one", tb.budget)
	}
	tb = tableOf(t, WithMethodRetryOn("Declared", internal), WithMethodRetryOn("Declared", aborted))
	checkRule(t, tb, "Declared", []triple_protocol.Code{aborted}, Backoff{})
}

// Options copy the parameters before they write them: the map may be the
// caller's (client.WithParams keeps it) or shared with other services.
func TestOptionsCopyParams(t *testing.T) {
	mine := map[string]string{"k": "v"}
	before := maps.Clone(mine)
	o := &client.ReferenceOptions{Reference: &global.ReferenceConfig{}}
	for _, opt := range []client.ReferenceOption{
		client.WithParams(mine), protoPolicy(declared), WithRetryOn(internal), WithJitterSeed(3), client.WithParam("x", "y"),
	} {
		opt(o)
	}
	if !maps.Equal(mine, before) {
		t.Errorf("the caller's map is now %v, want %v", mine, before)
	}
	if o.Reference.Params["k"] != "v" || o.Reference.Params["x"] != "y" || o.Reference.Params[paramSeed] != "3" {
		t.Errorf("params %v lost some", o.Reference.Params)
	}
}

// The options select this package's cluster unless the caller or the
// client chose a cluster other than failover.
func TestOptionsSelectCluster(t *testing.T) {
	for _, tc := range []struct{ before, after string }{
		{"", ClusterName},
		{constant.ClusterKeyFailover, ClusterName},
		{ClusterName, ClusterName},
		{constant.ClusterKeyFailfast, constant.ClusterKeyFailfast},
		{constant.ClusterKeyForking, constant.ClusterKeyForking},
	} {
		for _, opt := range []client.ReferenceOption{protoPolicy(declared), WithRetryOn(), WithoutBudget(), WithJitterSeed(1)} {
			o := &client.ReferenceOptions{Reference: &global.ReferenceConfig{Cluster: tc.before}}
			opt(o)
			if o.Reference.Cluster != tc.after {
				t.Errorf("cluster %q before: %q after, want %q", tc.before, o.Reference.Cluster, tc.after)
			}
		}
	}
}

// Bad options panic when they are made, naming the option and the problem,
// never when a call is made.
func TestBadOptionsPanic(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func()
		want string
	}{
		{"code 0", func() { WithRetryOn(0) }, "dubboretry.WithRetryOn: retry on code 0"},
		{"business", func() { WithRetryOn(triple_protocol.CodeBizError) }, "a business error is never retried"},
		{"twice", func() { WithMethodRetryOn("M", internal, internal) }, "retry on internal twice"},
		{"method name", func() { WithMethodRetryOn("a/b", internal) }, `dubboretry.WithMethodRetryOn: method name "a/b"`},
		{"empty method name", func() { WithoutMethodBackoff("") }, "dubboretry.WithoutMethodBackoff: empty method name"},
		{"initial", func() { WithBackoff(0, 0, 0) }, "dubboretry.WithBackoff: backoff initial is 0s"},
		{"max", func() { WithMethodBackoff("M", time.Second, time.Millisecond, 2) }, "backoff max is 1ms, below initial 1s"},
		{"multiplier", func() { WithBackoff(time.Second, 0, 0.5) }, "backoff multiplier is 0.5"},
		{"ratio 0", func() { WithBudget(0, 10) }, "dubboretry.WithBudget: budget ratio is 0"},
		{"ratio above 1", func() { WithBudget(1.5, 10) }, "budget ratio is 1.5"},
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tc.want) {
					t.Errorf("%s: panicked with %q, want %q", tc.name, msg, tc.want)
				}
			}()
			tc.make()
		}()
	}
}
