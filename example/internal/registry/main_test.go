// Package registry tests generated clients that find their providers in a
// real ZooKeeper registry (docs/design.md, "Registries"), where the other tests of the
// example dial providers by URL. ZooKeeper runs from Debian's zookeeperd
// (see package zookeeper): without it the tests skip, or fail when CI=true.
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
//     (package proc) as the role "consumer", which prints its results as
//     JSON on stdout. A consumer process creates one service of each
//     interface at most, and makes the calls of a probe scenario at once.
//   - A process can export a service only once, so every provider is a
//     process of its own too (the role "provider").
//   - A provider's retries reach consumers only with interface-level
//     registration: with the default registration, consumers rebuild the
//     provider's URL from its metadata, which keeps only the keys of
//     metadata/info.IncludeKeys (timeout, not retries). And no provider
//     publishes a timeout dubbo-go reads (see TestPublishedDefaults).
//   - dubbo-go mounts a server's attached HTTP handler only once it has
//     registered the provider, so a provider says it is ready once its
//     handler answers (a provider started by dubbo.Load has none: see
//     provideWithLoad); consumers call until a first call succeeds.
//   - A killed provider's nodes outlive it until its ZooKeeper session
//     expires (5 s: reg.instance), so every test registers in a group (a
//     root node) of its own.
//   - dubbo-go registers the machine's first non-loopback address unless
//     told otherwise. Every process binds and registers 127.0.0.1 only:
//     protocol.WithIp, and DUBBO_IP_TO_REGISTRY=127.0.0.1, which TestMain
//     sets and every child inherits. TestLayersThroughZooKeeper checks it
//     (and see checkRegistered, on consumers).
package registry

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dubbo "dubbo.apache.org/dubbo-go/v3"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/metadata"
	"dubbo.apache.org/dubbo-go/v3/registry"
	"github.com/dubbogo/gost/log/logger"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/proc"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/zookeeper"
)

const (
	// logEnv, set to a level ("info", "debug"), makes the providers and
	// consumers log at that level; the test writes what they log to files
	// in os.TempDir, and names them. For debugging.
	logEnv = "REGISTRY_TEST_LOG"

	// loopbackIP is the only address any process binds or registers.
	loopbackIP = "127.0.0.1"
)

func TestMain(m *testing.M) {
	// The failover cluster logs every failed attempt, and the tests fail on
	// purpose.
	logger.SetLoggerLevel("fatal")
	if l := os.Getenv(logEnv); l != "" && proc.Role() != "" {
		logger.SetLoggerLevel(l)
	}
	// dubbo-go registers the machine's first non-loopback address unless
	// told otherwise; child processes inherit this.
	os.Setenv("DUBBO_IP_TO_REGISTRY", loopbackIP)

	// The roles of the test binary run again (startChild), each configured
	// in JSON.
	proc.Main(map[string]func(string) error{
		"provider": configured(provide),
		"consumer": configured(consume),
		"zkdump":   configured(dumpZK),
	})
	os.Exit(m.Run())
}

// configured returns role, given its configuration in JSON.
func configured[T any](role func(T) error) func(string) error {
	return func(js string) error {
		var cfg T
		if err := json.Unmarshal([]byte(js), &cfg); err != nil {
			return err
		}
		return role(cfg)
	}
}

// A reg says which registry a process uses and how it registers.
type reg struct {
	Addr  string // ZooKeeper's client address
	Group string // the root node of the test
	// Interface selects interface-level registration
	// (registry.WithRegisterInterface); without it dubbo-go v3.3.2 uses its
	// default, application-level service discovery (RegistryType "").
	Interface bool
}

// instance returns the options of a dubbo-go instance that uses r.
//
// Every process keeps its metadata in ZooKeeper (dubbo.WithRemoteMetadata):
// with the default, local metadata, dubbo-go serves a MetadataService on a
// random port of every interface (it gives that service no IP), which these
// tests must not. And the metadata goes to a group of its own: dubbo-go's
// ZooKeeper metadata report keeps an application's metadata at
// /<group>/<app>/<revision>, next to the instances that service discovery
// keeps at /<group>/<app>/<ip:port>, and a consumer that finds the metadata
// there takes it for an instance and crashes (a nil instance in
// ServiceInstancesChangedListenerImpl.OnEvent).
func (r reg) instance(app string) []dubbo.InstanceOption {
	opts := []registry.Option{
		registry.WithZookeeper(),
		registry.WithAddress(r.Addr),
		registry.WithGroup(r.Group),
		registry.WithTimeout(5 * time.Second),
		registry.WithoutUseAsMetaReport(),
	}
	if r.Interface {
		opts = append(opts, registry.WithRegisterInterface())
	}
	return []dubbo.InstanceOption{
		dubbo.WithName(app),
		dubbo.WithRegistry(opts...),
		dubbo.WithMetadataReport(
			metadata.WithZookeeper(),
			metadata.WithAddress(r.Addr),
			metadata.WithGroup(r.Group+"-metadata"),
		),
		dubbo.WithRemoteMetadata(),
	}
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
func eachRegistration(t *testing.T, f func(t *testing.T, r reg)) *zookeeper.Server {
	t.Helper()
	zk := zookeeper.Start(t)
	for _, rt := range registrations {
		t.Run(rt.name, func(t *testing.T) {
			f(t, reg{Addr: zk.Addr, Group: newGroup(t), Interface: rt.iface})
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

// A message is what a provider or consumer says to the test (proc.Say).
// Exactly one field is set.
type message struct {
	Ready    *ready       `json:",omitempty"`
	Calls    []callResult `json:",omitempty"`
	Probes   *probeReport `json:",omitempty"`
	Progress *progress    `json:",omitempty"`
	Load     *loadResult  `json:",omitempty"`
	Second   *second      `json:",omitempty"`
	Nodes    []zkNode     `json:",omitempty"`
}

// say prints m for the test process.
func say(m message) { proc.Say(m) }

// A child is a provider or consumer process.
type child struct {
	*proc.Child[message]
	t testing.TB
}

// startChild runs the test binary as role with cfg. The child is killed if
// it outlives timeout, and stopped when the test ends: its standard input is
// closed, which a provider takes as the end, and it is killed if it has not
// exited 10 s later.
func startChild(t testing.TB, name, role string, cfg any, timeout time.Duration) *child {
	t.Helper()
	c, err := spawn(t, name, role, cfg, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// spawn is startChild, for any goroutine: it returns the error instead of
// ending the test.
func spawn(t testing.TB, name, role string, cfg any, timeout time.Duration) (*child, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	opts := proc.Options{
		// Under -race, a child reports its races on stderr and exits as it
		// would without them; checkRaces sorts them out.
		Env:     []string{"GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" exitcode=0")},
		Timeout: timeout,
	}
	var logs *os.File
	if os.Getenv(logEnv) != "" {
		if logs, err = os.CreateTemp("", fmt.Sprintf("registrytest-%s-*.log", role)); err == nil {
			opts.Output = logs
		}
	}
	pc, err := proc.Start[message](name, role, string(js), opts)
	if err != nil {
		if logs != nil {
			logs.Close()
		}
		return nil, err
	}
	if logs != nil {
		t.Logf("%s (pid %d) logs to %s", name, pc.Pid(), logs.Name())
	}
	c := &child{pc, t}
	t.Cleanup(func() {
		c.Stop()
		if logs != nil {
			logs.Close()
		}
		c.checkRaces()
	})
	return c, nil
}

// module is the import path prefix of this repository's packages.
const module = "github.com/dubbo-retry/protoc-gen-go-retry/"

// checkRaces fails the test for every data race the child reported (when
// built with -race) in which one of the racing accesses ran through this
// repository's code, and logs the others, which are dubbo-go's or its
// dependencies' own.
func (c *child) checkRaces() {
	c.t.Helper()
	out := c.Stderr()
	const start, end = "WARNING: DATA RACE", "=================="
	for {
		i := strings.Index(out, start)
		if i < 0 {
			return
		}
		out = out[i:]
		report := out
		if j := strings.Index(out, end); j >= 0 {
			report = out[:j]
		}
		out = out[len(report):]
		ours := false
		access := false
		for _, line := range strings.Split(report, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "Goroutine "):
				access = false
			case strings.HasSuffix(line, ":") && strings.Contains(line, " at "):
				access = true // Read at, Previous write at, ...
			case access && strings.HasPrefix(line, module):
				ours = true
			}
		}
		if ours {
			c.t.Errorf("%s: a data race in this repository's code:\n%s", c.Name, report)
		} else {
			c.t.Logf("%s: a data race within dubbo-go or its dependencies:\n%s", c.Name, report)
		}
	}
}

// send writes line to the child's standard input.
func (c *child) send(line string) {
	c.t.Helper()
	if err := c.Send(line); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the child's next message, or fails the test if it exits
// first or prints none for d.
func (c *child) next(d time.Duration) message {
	c.t.Helper()
	m, err := c.Next(d)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// wait waits for the child to exit, and fails the test if it failed.
func (c *child) wait() {
	c.t.Helper()
	if err := c.Wait(); err != nil {
		c.t.Fatal(err)
	}
}
