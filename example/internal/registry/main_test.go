// Package registry tests generated clients that find their providers in a
// real ZooKeeper registry (docs/design.md, "Registries"), where the other tests of the
// example dial providers by URL. ZooKeeper runs from Debian's zookeeperd
// (testbed.StartZooKeeper): without it the tests skip, or fail when CI=true.
//
//   - TestLayersThroughZooKeeper: the layers of docs/design.md, "Precedence", with
//     interface-level registration and with dubbo-go's default
//     (application-level) registration, give the attempts they give with
//     direct URLs.
//   - TestTimeoutsThroughZooKeeper: the same for the timeout column of
//     docs/design.md, "Timeouts".
//   - TestProviderRetries: how the retries a provider publishes combine with
//     the layers.
//   - TestPublishedDefaults: what the .proto defaults that providers publish
//     (publish_defaults) do to plain, dubbo.Load and generated consumers, and
//     what the provider's URL carries in ZooKeeper.
//   - TestFailoverUnderFaults: 10,000 calls while a provider is killed, a
//     provider starts, or ZooKeeper restarts.
//   - TestSecondReferenceFindsNoProvider: the limitation that makes every
//     consumer configuration a process of its own.
//
// Facts of dubbo-go v3.3.2 with ZooKeeper that shape the tests:
//   - With interface-level registration (only), a process finds no provider
//     for a second reference to an interface, so every consumer
//     configuration runs in a process of its own: the test binary, run again
//     (testbed.StartChild) as the role "consumer", which prints its results
//     as JSON on stdout. A consumer process creates one service of each
//     interface at most, and makes the calls of a probe scenario at once.
//   - A process can export a service only once, so every provider is a
//     process of its own too (testbed.StartProvider).
//   - A provider's retries reach consumers only with interface-level
//     registration: with the default registration, consumers rebuild the
//     provider's URL from its metadata, which keeps only the keys of
//     metadata/info.IncludeKeys (timeout, not retries). And no provider
//     publishes a timeout dubbo-go reads (see TestPublishedDefaults).
//   - dubbo-go mounts a server's attached HTTP handler only once it has
//     registered the provider, so a provider says it is ready once its
//     handler answers (a provider started by dubbo.Load has none: see
//     testbed.ProviderConfig.Load); consumers call until a first call
//     succeeds.
//   - A killed provider's nodes outlive it until its ZooKeeper session
//     expires (5 s: testbed.Registry.Instance), so every test registers in
//     a group (a root node) of its own.
//   - dubbo-go registers the machine's first non-loopback address unless
//     told otherwise. Every process binds and registers 127.0.0.1 only:
//     protocol.WithIp, and DUBBO_IP_TO_REGISTRY=127.0.0.1, which
//     testbed.Main sets and every child inherits. TestLayersThroughZooKeeper checks it
//     (and see checkRegistered, on consumers).
package registry

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

func TestMain(m *testing.M) {
	// The roles of the test binary run again (testbed.StartChild) besides
	// the providers, each configured in JSON.
	testbed.Main(map[string]func(string) error{
		"consumer": childproc.JSON(consume),
		"zkdump":   childproc.JSON(dumpZK),
	})
	os.Exit(m.Run())
}

// registrations are the two ways of registering the tests cover.
var registrations = []struct {
	name  string
	iface bool
}{
	{"interface", true},
	{"default", false},
}

// eachRegistration starts a ZooKeeper server and runs f on it, in a
// subtest, for each of registrations, each in a registry group of its own.
// It returns the server.
func eachRegistration(t *testing.T, f func(t *testing.T, r testbed.Registry)) *testbed.ZooKeeper {
	t.Helper()
	zk := testbed.StartZooKeeper(t)
	for _, rt := range registrations {
		t.Run(rt.name, func(t *testing.T) {
			f(t, testbed.Registry{Addr: zk.Addr, Group: newGroup(t), Interface: rt.iface})
		})
	}
	return zk
}

var groups atomic.Int64

// newGroup returns a registry group no other test uses, in this run or an
// earlier one on the same ZooKeeper.
func newGroup(t testing.TB) string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	return fmt.Sprintf("registrytest-%s-%d-%d", strings.Trim(name, "-"), os.Getpid(), groups.Add(1))
}

// A message is what a consumer says to the test (childproc.Say). Exactly one
// field is set.
type message struct {
	Calls    []callResult `json:",omitempty"`
	Probes   *probeReport `json:",omitempty"`
	Progress *progress    `json:",omitempty"`
	Load     *loadResult  `json:",omitempty"`
	Second   *second      `json:",omitempty"`
	Nodes    []zkNode     `json:",omitempty"`
}

// say prints m for the test process.
func say(m message) { childproc.Say(m) }

// A child is a consumer process, or the one that dumps ZooKeeper.
type child = childproc.Child[message]

// startChild runs the test binary as role with cfg, killed if it outlives
// timeout and stopped when the test ends (testbed.StartChild).
func startChild(t testing.TB, name, role string, cfg any, timeout time.Duration) *child {
	t.Helper()
	return testbed.MustStartChild[message](t, name, role, cfg, timeout)
}

// wait waits for the child to exit, and fails the test if it failed.
func wait(t testing.TB, c *child) {
	t.Helper()
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
}

// startProvider starts a provider process called name, registered in r, of
// the services cfg names: testbed.LayerServices if none. It is stopped (and
// unregisters) when the test ends, unless killed first.
func startProvider(t testing.TB, name string, r testbed.Registry, cfg testbed.ProviderConfig) *testbed.Provider {
	t.Helper()
	cfg.Registry = &r
	if cfg.Services == nil {
		cfg.Services = testbed.LayerServices
	}
	return testbed.StartProvider(t, "provider "+name, cfg)
}
