package registry

import (
	"strconv"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// layerScenarios walk the precedence table of docs/design.md, "Precedence", as
// example/internal/e2e/layers_test.go does with direct URLs, and want the
// same attempts: a call that fails every attempt makes retries + 1. Each
// runs in a consumer process of its own, and creates at most one service
// of each interface.
var layerScenarios = []scenario{
	{
		// Layer 2 alone: the .proto over dubbo-go's default of 2 retries;
		// and LayerService's default for Declared does not reach
		// PlainService.Declared.
		name: "proto alone",
		calls: func(cli *client.Client, _ testbed.Registry) ([]call, error) {
			layer, guarded, file, plain, err := services(cli)
			return []call{
				{name: "Declared (method: 3)", method: layer.Declared, want: 4},
				{name: "Never (method: 0)", method: layer.Never, want: 1},
				{name: "Undeclared (dubbo-go: 2)", method: layer.Undeclared, want: 3},
				{name: "Read (service: 2)", method: guarded.Read, want: 3},
				{name: "Write (service, idempotent_only: 0)", method: guarded.Write, want: 1},
				{name: "Inherit (file: 1)", method: file.Inherit, want: 2},
				{name: "Plain.Declared (dubbo-go: 2)", method: plain.Declared, want: 3},
			}, err
		},
	},
	// Layer 1 under layer 2: the client's retries fill in only the methods
	// the .proto says nothing about.
	clientRetries(5),
	clientRetries(0),
	{
		// Layer 3 over layer 2: WithRetries given to the constructor sets
		// every method of its service, .proto defaults included.
		name:   "WithRetries(1) and (0)",
		client: []client.ClientOption{client.WithClientRetries(5)},
		calls: func(cli *client.Client, _ testbed.Registry) ([]call, error) {
			layer, err := e2ev1.NewLayerService(cli, client.WithRetries(1))
			if err != nil {
				return nil, err
			}
			guarded, err := e2ev1.NewGuardedService(cli, client.WithRetries(0))
			return []call{
				{name: "Declared", method: layer.Declared, want: 2},
				{name: "Never", method: layer.Never, want: 2},
				{name: "Undeclared", method: layer.Undeclared, want: 2},
				{name: "Read", method: guarded.Read, want: 1},
				{name: "Write", method: guarded.Write, want: 1},
			}, err
		},
	},
	// Layer 3, one method: WithMethod beats WithRetries, in either order.
	withMethod("WithRetries(1) then WithMethod", client.WithRetries(1),
		client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "5"}),
		client.WithMethod(&global.MethodConfig{Name: "Never", Retries: "2"})),
	withMethod("WithMethod then WithRetries(1)",
		client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "5"}),
		client.WithMethod(&global.MethodConfig{Name: "Never", Retries: "2"}),
		client.WithRetries(1)),
	{
		// A WithMethod that sets no retries leaves the .proto default in
		// force.
		name:   "WithMethod without retries",
		client: []client.ClientOption{client.WithClientRetries(5)},
		calls: func(cli *client.Client, _ testbed.Registry) ([]call, error) {
			layer, err := e2ev1.NewLayerService(cli,
				client.WithMethod(&global.MethodConfig{Name: "Declared", RequestTimeout: "7s"}))
			return []call{
				{name: "Declared (.proto)", method: layer.Declared, want: 4},
				{name: "Undeclared (client)", method: layer.Undeclared, want: 6},
			}, err
		},
	},
	{
		// Layer 4 over everything: WithCallRetries on the call.
		name:   "WithCallRetries",
		client: []client.ClientOption{client.WithClientRetries(5)},
		calls: func(cli *client.Client, _ testbed.Registry) ([]call, error) {
			layer, err := e2ev1.NewLayerService(cli,
				client.WithRetries(1),
				client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "5"}))
			if err != nil {
				return nil, err
			}
			guarded, err := e2ev1.NewGuardedService(cli)
			if err != nil {
				return nil, err
			}
			plain, err := e2ev1.NewPlainService(cli)
			return []call{
				{name: "Declared: 0 over WithMethod", method: layer.Declared, want: 1, opts: []client.CallOption{client.WithCallRetries(0)}},
				{name: "Never: 3 over WithRetries", method: layer.Never, want: 4, opts: []client.CallOption{client.WithCallRetries(3)}},
				{name: "Read: 0 over the .proto", method: guarded.Read, want: 1, opts: []client.CallOption{client.WithCallRetries(0)}},
				{name: "Write: 2 over the .proto's 0", method: guarded.Write, want: 3, opts: []client.CallOption{client.WithCallRetries(2)}},
				{name: "Plain.Undeclared: 0 over the client's", method: plain.Undeclared, want: 1, opts: []client.CallOption{client.WithCallRetries(0)}},
			}, err
		},
	},
	{
		// The options given to one service do not reach another service
		// created from the same client: the first...
		name: "no leak: options of the first service",
		calls: func(cli *client.Client, _ testbed.Registry) ([]call, error) {
			layer, err := e2ev1.NewLayerService(cli,
				client.WithRetries(5),
				client.WithMethod(&global.MethodConfig{Name: "Undeclared", Retries: "4"}))
			if err != nil {
				return nil, err
			}
			plain, err := e2ev1.NewPlainService(cli)
			return []call{
				{name: "Plain.Declared", method: plain.Declared, want: 3},
				{name: "Plain.Undeclared", method: plain.Undeclared, want: 3},
				{name: "Declared", method: layer.Declared, want: 6},
				{name: "Undeclared", method: layer.Undeclared, want: 5},
			}, err
		},
	},
	{
		// ... or the second.
		name: "no leak: options of the second service",
		calls: func(cli *client.Client, _ testbed.Registry) ([]call, error) {
			layer, err := e2ev1.NewLayerService(cli)
			if err != nil {
				return nil, err
			}
			plain, err := e2ev1.NewPlainService(cli, client.WithRetries(4))
			return []call{
				{name: "Declared", method: layer.Declared, want: 4},
				{name: "Undeclared", method: layer.Undeclared, want: 3},
				{name: "Never", method: layer.Never, want: 1},
				{name: "Plain.Declared", method: plain.Declared, want: 5},
			}, err
		},
	},
}

// services creates one service of each e2e/v1 interface from cli.
func services(cli *client.Client) (e2ev1.LayerService, e2ev1.GuardedService, e2ev1.FileDefaultService, e2ev1.PlainService, error) {
	layer, err := e2ev1.NewLayerService(cli)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	guarded, err := e2ev1.NewGuardedService(cli)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	file, err := e2ev1.NewFileDefaultService(cli)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	plain, err := e2ev1.NewPlainService(cli)
	return layer, guarded, file, plain, err
}

// clientRetries is the scenario of client.WithClientRetries(n): it fills in
// the methods without a .proto default, and only those.
func clientRetries(n int) scenario {
	return scenario{
		name:   "WithClientRetries(" + strconv.Itoa(n) + ")",
		client: []client.ClientOption{client.WithClientRetries(n)},
		calls: func(cli *client.Client, _ testbed.Registry) ([]call, error) {
			layer, guarded, file, plain, err := services(cli)
			return []call{
				{name: "Declared (method: 3)", method: layer.Declared, want: 4},
				{name: "Never (method: 0)", method: layer.Never, want: 1},
				{name: "Undeclared (client)", method: layer.Undeclared, want: uint32(n) + 1},
				{name: "Read (service: 2)", method: guarded.Read, want: 3},
				{name: "Write (service, idempotent_only: 0)", method: guarded.Write, want: 1},
				{name: "Inherit (file: 1)", method: file.Inherit, want: 2},
				{name: "Plain.Undeclared (client)", method: plain.Undeclared, want: uint32(n) + 1},
			}, err
		},
	}
}

// withMethod is the scenario of LayerService created with opts, which set
// Declared to 5 retries and Never to 2 with WithMethod, and the whole
// service to 1 with WithRetries.
func withMethod(name string, opts ...client.ReferenceOption) scenario {
	return scenario{
		name: name,
		calls: func(cli *client.Client, _ testbed.Registry) ([]call, error) {
			layer, err := e2ev1.NewLayerService(cli, opts...)
			return []call{
				{name: "Declared: WithMethod 5", method: layer.Declared, want: 6},
				{name: "Never: WithMethod 2", method: layer.Never, want: 3},
				{name: "Undeclared: WithRetries 1", method: layer.Undeclared, want: 2},
			}, err
		},
	}
}

// TestLayersThroughZooKeeper checks the layering of docs/design.md, "Precedence" with
// providers found through ZooKeeper, registered at the interface level and
// with dubbo-go's default registration: each call of each scenario must
// make as many attempts as with a direct URL.
//
// It also checks that every process binds and registers 127.0.0.1 only
// (but see checkRegistered on consumers).
func TestLayersThroughZooKeeper(t *testing.T) {
	t.Parallel()
	zk := eachRegistration(t, func(t *testing.T, r testbed.Registry) {
		p := startProvider(t, "A", r, testbed.ProviderConfig{})
		results := checkScenarios(t, r, p, layerScenarios)
		logResults(t, layerScenarios, results)
		p.CheckLoopbackOnly(t)
	})
	if consumers := checkRegistered(t, zkTree(t, zk.Addr)); len(consumers) > 0 {
		t.Logf("consumers registered under %v, not %s: dubbo-go ignores DUBBO_IP_TO_REGISTRY for them", consumers, testbed.Loopback)
	}
}

// The retries the provider of TestProviderRetries publishes on its URL:
// server.WithRetries(4) on every service, and server.WithMethod for two
// methods.
const (
	providerRetries         = 4 // every service
	providerDeclaredRetries = 6 // LayerService.Declared, which has a .proto default
	providerPlainRetries    = 6 // PlainService.Undeclared, which has none
)

var providerMethodRetries = map[string]map[string]int{
	"LayerService": {"Declared": providerDeclaredRetries},
	"PlainService": {"Undeclared": providerPlainRetries},
}

// providerRetriesScenarios show Dubbo's rule for the retries a provider
// publishes. The consumer merges the provider's URL under its own: where
// both set a key, the consumer's wins; and the failover cluster reads a
// method's retries before the service's. So
//   - the provider's server.WithRetries reaches only the methods without a
//     .proto default (whose defaults are method settings of the consumer),
//     and only when the consumer sets no retries of its own;
//   - but a provider's retries for a method (server.WithMethod) beat the
//     consumer's client-wide and service-wide retries, .proto defaults
//     aside: only the consumer's own method settings (.proto defaults,
//     client.WithMethod) and client.WithCallRetries beat them.
//
// That holds with interface-level registration. With dubbo-go's default,
// application-level registration, the consumer never sees the provider's
// retries: dubbo-go builds the provider's URL from its metadata, which keeps
// only the keys of metadata/info.IncludeKeys (timeout, loadbalance, cluster,
// ... but not retries). fromProvider(r, n, otherwise) is n attempts with
// interface-level registration, and otherwise without.
var providerRetriesScenarios = []scenario{
	{
		name: "provider retries, consumer sets none",
		calls: func(cli *client.Client, r testbed.Registry) ([]call, error) {
			layer, guarded, file, plain, err := services(cli)
			return []call{
				{name: "Declared (.proto: 3, over the provider's method: 6)", method: layer.Declared, want: 4},
				{name: "Never (.proto: 0)", method: layer.Never, want: 1},
				{name: "Undeclared (provider: 4)", method: layer.Undeclared, want: fromProvider(r, providerRetries+1, 3)},
				{name: "Read (.proto: 2)", method: guarded.Read, want: 3},
				{name: "Write (.proto: 0)", method: guarded.Write, want: 1},
				{name: "Inherit (.proto: 1)", method: file.Inherit, want: 2},
				{name: "Plain.Declared (provider: 4)", method: plain.Declared, want: fromProvider(r, providerRetries+1, 3)},
				{name: "Plain.Undeclared (provider's method: 6)", method: plain.Undeclared, want: fromProvider(r, providerPlainRetries+1, 3)},
			}, err
		},
	},
	{
		name:   "provider retries, WithClientRetries(1)",
		client: []client.ClientOption{client.WithClientRetries(1)},
		calls: func(cli *client.Client, r testbed.Registry) ([]call, error) {
			layer, guarded, _, plain, err := services(cli)
			return []call{
				{name: "Declared (.proto: 3)", method: layer.Declared, want: 4},
				{name: "Undeclared (client: 1)", method: layer.Undeclared, want: 2},
				{name: "Read (.proto: 2)", method: guarded.Read, want: 3},
				{name: "Plain.Declared (client: 1)", method: plain.Declared, want: 2},
				{name: "Plain.Undeclared (provider's method: 6, over the client's)", method: plain.Undeclared, want: fromProvider(r, providerPlainRetries+1, 2)},
			}, err
		},
	},
	{
		name: "provider retries, WithRetries(0)",
		calls: func(cli *client.Client, r testbed.Registry) ([]call, error) {
			layer, err := e2ev1.NewLayerService(cli, client.WithRetries(0))
			if err != nil {
				return nil, err
			}
			plain, err := e2ev1.NewPlainService(cli, client.WithRetries(0))
			return []call{
				{name: "Declared (provider's method: 6, over the service's)", method: layer.Declared, want: fromProvider(r, providerDeclaredRetries+1, 1)},
				{name: "Never (service: 0)", method: layer.Never, want: 1},
				{name: "Undeclared (service: 0)", method: layer.Undeclared, want: 1},
				{name: "Plain.Declared (service: 0)", method: plain.Declared, want: 1},
				{name: "Plain.Undeclared (provider's method: 6, over the service's)", method: plain.Undeclared, want: fromProvider(r, providerPlainRetries+1, 1)},
			}, err
		},
	},
	{
		name: "provider retries, WithMethod and WithCallRetries",
		calls: func(cli *client.Client, r testbed.Registry) ([]call, error) {
			layer, err := e2ev1.NewLayerService(cli, client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "1"}))
			if err != nil {
				return nil, err
			}
			plain, err := e2ev1.NewPlainService(cli, client.WithMethod(&global.MethodConfig{Name: "Undeclared", Retries: "1"}))
			return []call{
				{name: "Declared (WithMethod: 1)", method: layer.Declared, want: 2},
				{name: "Plain.Undeclared (WithMethod: 1)", method: plain.Undeclared, want: 2},
				{name: "Undeclared (WithCallRetries(0))", method: layer.Undeclared, want: 1, opts: []client.CallOption{client.WithCallRetries(0)}},
				{name: "Plain.Declared (WithCallRetries(1))", method: plain.Declared, want: 2, opts: []client.CallOption{client.WithCallRetries(1)}},
			}, err
		},
	},
}

// fromProvider is n, the attempts the provider's retries give, with
// interface-level registration, and otherwise with the default
// registration, which drops them.
func fromProvider(r testbed.Registry, n, otherwise uint32) uint32 {
	if r.Interface {
		return n
	}
	return otherwise
}

// TestProviderRetries checks how the retries a provider publishes
// (server.WithRetries, server.WithMethod) combine with the layers.
func TestProviderRetries(t *testing.T) {
	t.Parallel()
	eachRegistration(t, func(t *testing.T, r testbed.Registry) {
		retries := providerRetries
		p := startProvider(t, "A", r, testbed.ProviderConfig{ServerRetries: &retries, MethodRetries: providerMethodRetries})
		results := checkScenarios(t, r, p, providerRetriesScenarios)
		logResults(t, providerRetriesScenarios, results)
	})
}
