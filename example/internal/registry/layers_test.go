package registry

import (
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/precedence"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
)

// TestLayersThroughZooKeeper makes every row of precedence.Retries, the
// layering of docs/design.md, "Precedence", with providers found through
// ZooKeeper, registered at the interface level and with dubbo-go's default
// registration: each call of each row must make as many attempts as with a
// direct URL (example/internal/e2e). Each row runs in a consumer process of
// its own.
//
// It also checks that every process binds and registers 127.0.0.1 only
// (but see checkRegistered on consumers).
func TestLayersThroughZooKeeper(t *testing.T) {
	t.Parallel()
	zk := eachRegistration(t, func(t *testing.T, r testbed.Registry) {
		p := startProvider(t, "A", r, testbed.ProviderConfig{})
		results := checkScenarios(t, r, p, precedence.Retries)
		logResults(t, precedence.Retries, results)
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
// ... but not retries). fromProvider(n, otherwise) is n retries with
// interface-level registration, and otherwise without.
func providerRetriesScenarios(r testbed.Registry) []precedence.Scenario {
	fromProvider := func(n, otherwise uint32) uint32 {
		if r.Interface {
			return n
		}
		return otherwise
	}
	return []precedence.Scenario{
		{
			Name: "provider retries, consumer sets none",
			Calls: []precedence.Call{
				{Method: precedence.Declared, Retries: 3}, // the .proto's, over the provider's method: 6
				{Method: precedence.Never, Retries: 0},
				{Method: precedence.Undeclared, Retries: fromProvider(providerRetries, 2)},
				{Method: precedence.GuardedRead, Retries: 2},
				{Method: precedence.GuardedWrite, Retries: 0},
				{Method: precedence.FileInherit, Retries: 1},
				{Method: precedence.PlainDeclared, Retries: fromProvider(providerRetries, 2)},
				{Method: precedence.PlainUndeclared, Retries: fromProvider(providerPlainRetries, 2)},
			},
		},
		{
			Name:     "provider retries, WithClientRetries(1)",
			Settings: []precedence.Setting{precedence.WithClientRetries(1)},
			Calls: []precedence.Call{
				{Method: precedence.Declared, Retries: 3},
				{Method: precedence.Undeclared, Retries: 1},
				{Method: precedence.GuardedRead, Retries: 2},
				{Method: precedence.PlainDeclared, Retries: 1},
				// The provider's method, over the client's.
				{Method: precedence.PlainUndeclared, Retries: fromProvider(providerPlainRetries, 1)},
			},
		},
		{
			Name:     "provider retries, WithRetries(0)",
			Settings: []precedence.Setting{precedence.WithRetries(0)},
			Calls: []precedence.Call{
				// The provider's method, over the service's.
				{Method: precedence.Declared, Retries: fromProvider(providerDeclaredRetries, 0)},
				{Method: precedence.Never, Retries: 0},
				{Method: precedence.Undeclared, Retries: 0},
				{Method: precedence.PlainDeclared, Retries: 0},
				{Method: precedence.PlainUndeclared, Retries: fromProvider(providerPlainRetries, 0)},
			},
		},
		{
			Name: "provider retries, WithMethod and WithCallRetries",
			Settings: []precedence.Setting{
				precedence.WithMethodRetries("Declared", 1).On("LayerService"),
				precedence.WithMethodRetries("Undeclared", 1).On("PlainService"),
			},
			Calls: []precedence.Call{
				{Method: precedence.Declared, Retries: 1},
				{Method: precedence.PlainUndeclared, Retries: 1},
				{Method: precedence.Undeclared, Settings: []precedence.Setting{precedence.WithCallRetries(0)}, Retries: 0},
				{Method: precedence.PlainDeclared, Settings: []precedence.Setting{precedence.WithCallRetries(1)}, Retries: 1},
			},
		},
	}
}

// TestProviderRetries checks how the retries a provider publishes
// (server.WithRetries, server.WithMethod) combine with the layers.
func TestProviderRetries(t *testing.T) {
	t.Parallel()
	eachRegistration(t, func(t *testing.T, r testbed.Registry) {
		retries := providerRetries
		p := startProvider(t, "A", r, testbed.ProviderConfig{ServerRetries: &retries, MethodRetries: providerMethodRetries})
		scenarios := providerRetriesScenarios(r)
		results := checkScenarios(t, r, p, scenarios)
		logResults(t, scenarios, results)
	})
}
