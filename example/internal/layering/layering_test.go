// Package layering tests, against dubbo-go, the helpers that generated files
// copy from internal/gen/_layering: the code that gives each service its own
// reference config and layers the .proto's retries and timeouts between the
// client's settings and the caller's (docs/design.md, "Precedence" and
// "Timeouts").
//
// These tests apply the helper's options to a ReferenceOptions the way
// dubbo-go's Client.dial does, and look at the reference config that
// results. The end-to-end tests (internal/e2e) check the attempts a real
// server sees.
package layering_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/common"
	"dubbo.apache.org/dubbo-go/v3/global"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	layering "github.com/dubbo-retry/protoc-gen-go-retry/internal/gen/_layering"
)

const helperPackage = "github.com/dubbo-retry/protoc-gen-go-retry/internal/gen/_layering"

// TestVet builds and vets the helper against the dubbo-go of this module.
func TestVet(t *testing.T) {
	for _, verb := range []string{"build", "vet"} {
		if out, err := exec.Command(goCommand(), verb, helperPackage).CombinedOutput(); err != nil {
			t.Errorf("go %s %s: %v\n%s", verb, helperPackage, err, out)
		}
	}
}

// shared is a client's reference config, which dubbo-go hands to every
// service of the client: clientRetries is client.WithClientRetries.
func shared(clientRetries string) *global.ReferenceConfig {
	return &global.ReferenceConfig{InterfaceName: "shared", Retries: clientRetries, Params: map[string]string{"k": "v"}}
}

// dial applies opts as Client.dial does (its own options first, then the
// constructor's) and returns the reference config the service ends with.
func dial(ref *global.ReferenceConfig, opts []client.ReferenceOption) *global.ReferenceConfig {
	o := &client.ReferenceOptions{Reference: ref}
	for _, opt := range opts {
		opt(o)
	}
	return o.Reference
}

// methods returns the method configs of ref as name: retries, sticky.
func methods(ref *global.ReferenceConfig) []string {
	var out []string
	for _, m := range ref.MethodsConfig {
		if m == nil {
			out = append(out, "<nil>")
			continue
		}
		sticky := ""
		if m.Sticky {
			sticky = " sticky"
		}
		out = append(out, m.Name+"="+m.Retries+sticky)
	}
	return out
}

var protoDefaults = []global.MethodConfig{{Name: "Declared", Retries: "3"}, {Name: "Never", Retries: "0"}}

func TestRetryOptions(t *testing.T) {
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
			opts:        []client.ReferenceOption{client.WithMethod(&global.MethodConfig{Name: "Declared", RequestTimeout: "1s"})},
			wantMethods: []string{"Declared=3", "Never=0"},
		},
		{
			name: "a later client.WithMethod without retries keeps an earlier one's",
			opts: []client.ReferenceOption{
				client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "7"}),
				client.WithMethod(&global.MethodConfig{Name: "Declared", RequestTimeout: "1s"}),
			},
			wantMethods: []string{"Declared=7", "Declared=7", "Never=0"},
		},
		{
			name:        "a method config of the .proto keeps the service's sticky",
			opts:        []client.ReferenceOption{client.WithSticky()},
			wantMethods: []string{"Declared=3 sticky", "Never=0 sticky"},
		},
		{
			name:        "nil method configs are passed over",
			opts:        []client.ReferenceOption{func(o *client.ReferenceOptions) { o.Reference.MethodsConfig = append(o.Reference.MethodsConfig, nil) }},
			wantMethods: []string{"<nil>", "Declared=3", "Never=0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := shared(tt.clientRetries)
			before := ref.Clone()
			got := dial(ref, layering.RetryOptions(protoDefaults, tt.opts))
			if got == ref {
				t.Fatal("the service kept the client's shared reference config")
			}
			if diff := cmp.Diff(before, ref, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("the client's shared reference config changed (-before +after):\n%s", diff)
			}
			if got.Retries != tt.wantRetries {
				t.Errorf("the service's retries are %q, want %q", got.Retries, tt.wantRetries)
			}
			if diff := cmp.Diff(tt.wantMethods, methods(got)); diff != "" {
				t.Errorf("method configs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRetryOptionsCopies checks that the helper changes neither the
// caller's method configs nor the generated defaults, and that two
// services dialled from one client do not share configs.
func TestRetryOptionsCopies(t *testing.T) {
	callerRetries := &global.MethodConfig{Name: "Declared", Retries: "7"}
	callerTimeout := &global.MethodConfig{Name: "Declared", RequestTimeout: "1s"}
	callerOther := &global.MethodConfig{Name: "Never", RequestTimeout: "2s"}
	want := []*global.MethodConfig{callerRetries.Clone(), callerTimeout.Clone(), callerOther.Clone()}
	defaults := append([]global.MethodConfig(nil), protoDefaults...)

	ref := shared("")
	first := dial(ref, layering.RetryOptions(defaults, []client.ReferenceOption{
		client.WithMethod(callerRetries), client.WithMethod(callerTimeout), client.WithMethod(callerOther),
	}))
	if diff := cmp.Diff(want, []*global.MethodConfig{callerRetries, callerTimeout, callerOther}); diff != "" {
		t.Errorf("the caller's method configs changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(protoDefaults, defaults); diff != "" {
		t.Errorf("the .proto's defaults changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Declared=7", "Declared=7", "Never=0"}, methods(first)); diff != "" {
		t.Errorf("method configs (-want +got):\n%s", diff)
	}

	second := dial(ref, layering.RetryOptions(nil, []client.ReferenceOption{client.WithRetries(4)}))
	if second.Retries != "4" || len(second.MethodsConfig) != 0 {
		t.Errorf("the second service has retries %q and method configs %v: the first one's leaked", second.Retries, methods(second))
	}
	if first.Retries != "" {
		t.Errorf("the second service's client.WithRetries reached the first: retries %q", first.Retries)
	}
	second.Params["k"] = "changed"
	if first.Params["k"] != "v" || ref.Params["k"] != "v" {
		t.Error("two services share the params map of the client's reference config")
	}
}

// goCommand is the go command that runs the tests.
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// The .proto's timeouts of a service's unary methods, as a generated file
// lists them: Limited has one, Unlimited none.
var protoTimeouts = []global.MethodConfig{{Name: "Limited", RequestTimeout: "300ms"}, {Name: "Unlimited"}}

// timeouts returns the method configs of ref as name: timeout.
func timeouts(ref *global.ReferenceConfig) []string {
	var out []string
	for _, m := range ref.MethodsConfig {
		out = append(out, m.Name+"="+m.RequestTimeout)
	}
	return out
}

func TestTimeoutOptions(t *testing.T) {
	limited := func(timeout string) client.ReferenceOption {
		return client.WithMethod(&global.MethodConfig{Name: "Limited", RequestTimeout: timeout})
	}
	tests := []struct {
		name         string
		opts         []client.ReferenceOption
		wantTimeouts []string
	}{
		{
			name:         "the .proto's timeouts, nothing else",
			wantTimeouts: []string{"Limited=300ms"},
		},
		{
			name:         "client.WithRequestTimeout goes to every method, over the .proto",
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
			wantTimeouts: []string{"Limited=5s", "Limited="},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := shared("")
			before := ref.Clone()
			got := dial(ref, layering.RetryOptions(nil, layering.TimeoutOptions(protoTimeouts, tt.opts)))
			if diff := cmp.Diff(before, ref, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("the client's shared reference config changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantTimeouts, timeouts(got)); diff != "" {
				t.Errorf("method timeouts (-want +got):\n%s", diff)
			}
			if got.Filter != layering.TimeoutFilter {
				t.Errorf("the service's filters are %q, want %q", got.Filter, layering.TimeoutFilter)
			}
		})
	}
}

// TestTimeoutOptionsFilter: the filter is added to the caller's filters
// once, and reaches no other service of the client.
func TestTimeoutOptionsFilter(t *testing.T) {
	ref := shared("")
	got := dial(ref, layering.RetryOptions(nil, layering.TimeoutOptions(protoTimeouts, []client.ReferenceOption{
		client.WithFilter("echo"), client.WithFilter("echo," + layering.TimeoutFilter),
	})))
	if want := "echo," + layering.TimeoutFilter; got.Filter != want {
		t.Errorf("the service's filters are %q, want %q", got.Filter, want)
	}
	got = dial(ref, layering.RetryOptions(nil, layering.TimeoutOptions(protoTimeouts, []client.ReferenceOption{client.WithFilter("echo")})))
	if want := "echo," + layering.TimeoutFilter; got.Filter != want {
		t.Errorf("the service's filters are %q, want %q", got.Filter, want)
	}
	if other := dial(ref, layering.RetryOptions(nil, nil)); other.Filter != "" {
		t.Errorf("a service created after them has the filters %q, want none", other.Filter)
	}
}

// TestServiceRetriesOptions: for a service whose providers publish the
// .proto's retries as method-level values, the caller's client.WithRetries
// goes to each method with a .proto default, unless the caller's
// client.WithMethod sets the method's retries.
func TestServiceRetriesOptions(t *testing.T) {
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
				client.WithMethod(&global.MethodConfig{Name: "Never", RequestTimeout: "1s"}),
			},
			wantMethods: []string{"Never=5", "Never=5", "Declared=1"},
		},
		{
			name:        "a client.WithMethod without retries gets them, on a copy",
			opts:        []client.ReferenceOption{client.WithMethod(&global.MethodConfig{Name: "Never", RequestTimeout: "1s"}), client.WithRetries(2)},
			wantMethods: []string{"Never=2", "Declared=2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dial(shared("5"), layering.RetryOptions(protoDefaults, layering.ServiceRetriesOptions(protoDefaults, tt.opts)))
			if diff := cmp.Diff(tt.wantMethods, methods(got)); diff != "" {
				t.Errorf("method configs (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPublishedDefaults: a provider publishes the .proto's retries and
// timeouts of its methods on its URL, where it set nothing above them.
func TestPublishedDefaults(t *testing.T) {
	published := layering.PublishedDefaults{
		"shop.v1.Cart": {{Name: "Get", Retries: "3"}, {Name: "Put", Retries: "0", RequestTimeout: "300ms"}},
	}
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
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := common.NewURLWithOptions(common.WithParamsValue("interface", "shop.v1.Cart"))
			for k, v := range tt.params {
				u.SetParam(k, v)
			}
			published.PostProcessServiceConfig(u)
			for _, key := range []string{"methods.Get.retries", "methods.Put.retries", "methods.Put.timeout"} {
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
	published.PostProcessServiceConfig(other)
	if got := other.GetParam("methods.Get.retries", ""); got != "" {
		t.Errorf("another service's URL got methods.Get.retries = %q", got)
	}
}
