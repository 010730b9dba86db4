package registry

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dubbo "dubbo.apache.org/dubbo-go/v3"
	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/common/extension"
	"dubbo.apache.org/dubbo-go/v3/filter"
	"dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/result"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/precedence"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// consumerApp is the application name every consumer registers.
const consumerApp = "registrytest-consumer"

// discoveryTimeout bounds the wait for a consumer to find its providers.
const discoveryTimeout = 30 * time.Second

// consumerConfig configures a consumer process: what it runs, a scenario,
// a probe scenario, a load or the second-reference check, is the field
// that is set.
type consumerConfig struct {
	Registry testbed.Registry
	// Scenario names a scenario (see findScenario), Probes a probe
	// scenario (findProbeScenario); Counts are the addresses where the
	// providers serve their attempt counts (testbed.Provider.HTTP).
	Scenario string      `json:",omitempty"`
	Probes   string      `json:",omitempty"`
	Counts   []string    `json:",omitempty"`
	Load     *loadConfig `json:",omitempty"`
	Second   bool        `json:",omitempty"`
}

// runConsumer runs a consumer process with cfg and returns its messages.
// The process is killed if it runs for more than timeout. It may be called
// from any goroutine.
func runConsumer(t testing.TB, name string, cfg consumerConfig, timeout time.Duration) ([]message, error) {
	c, err := testbed.StartChild[message](t, "consumer "+name, "consumer", cfg, timeout)
	if err != nil {
		return nil, err
	}
	var msgs []message
	for m := range c.Messages() {
		msgs = append(msgs, m)
	}
	return msgs, c.Wait()
}

// consume runs the consumer that cfg describes.
func consume(cfg consumerConfig) error {
	switch {
	case cfg.Scenario != "":
		return runScenario(cfg)
	case cfg.Probes != "":
		return runProbes(cfg)
	case cfg.Load != nil:
		return runLoad(cfg)
	case cfg.Second:
		return checkSecondReference(cfg)
	}
	return errors.New("the config names nothing to run")
}

// newClient returns a client, with opts, that finds its providers in
// cfg.Registry.
func newClient(cfg consumerConfig, opts ...client.ClientOption) (*client.Client, error) {
	ins, err := dubbo.NewInstance(cfg.Registry.Instance(consumerApp)...)
	if err != nil {
		return nil, err
	}
	return ins.NewClient(opts...)
}

// discover calls method, with a request that succeeds and no retries,
// until a call succeeds, for at most discoveryTimeout: the consumer learns
// its providers from ZooKeeper some time after it creates the service.
func discover(method precedence.Unary, id string) error {
	return discoverWithin(discoveryTimeout, method, id)
}

// discoverWithin is discover, for at most d.
func discoverWithin(d time.Duration, method precedence.Unary, id string) error {
	return callUntil(d, func(ctx context.Context, id string) error {
		_, err := method(ctx, &e2ev1.Request{Id: id}, client.WithCallRetries(0))
		return err
	}, id)
}

// discoverBy is discover, for any call: call must succeed at once when a
// provider is found.
func discoverBy(call probeCall, id string) error {
	return callUntil(discoveryTimeout, call, id)
}

// callUntil makes call, with request ids id#1, id#2..., until a call
// succeeds, for at most d, and returns the last error if none does.
func callUntil(d time.Duration, call probeCall, id string) error {
	n := 0
	return testbed.Await(d, 50*time.Millisecond, func() error {
		n++
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return call(ctx, fmt.Sprintf("%s#%d", id, n))
	})
}

// callResult is what a consumer reports of a call: how it ended, and the
// attempts the providers saw; and how it must end.
type callResult struct {
	Name     string
	Code     string // triple_protocol.CodeOf the error, "" for none
	Err      string `json:",omitempty"`
	Attempts uint32
	Want     uint32
	WantCode string `json:",omitempty"` // "" for success
}

// checkCall fails the test if c did not end with the code it wants, after
// the attempts it wants.
func checkCall(t *testing.T, c callResult) {
	t.Helper()
	if c.Code != c.WantCode {
		want := c.WantCode
		if want == "" {
			want = "success"
		}
		t.Errorf("%s: the call ended with %q (%s), want %s", c.Name, c.Code, c.Err, want)
	}
	if c.Attempts != c.Want {
		t.Errorf("%s: the provider saw %d attempts, want %d", c.Name, c.Attempts, c.Want)
	}
}

// findScenario returns the row called name of the precedence table, or of
// the table of TestProviderRetries for r.
func findScenario(name string, r testbed.Registry) (precedence.Scenario, bool) {
	for _, list := range [][]precedence.Scenario{precedence.Retries, providerRetriesScenarios(r)} {
		for _, s := range list {
			if s.Name == name {
				return s, true
			}
		}
	}
	return precedence.Scenario{}, false
}

// runScenario makes the calls of cfg.Scenario, each failing every attempt,
// and reports the attempts the providers saw.
func runScenario(cfg consumerConfig) error {
	sc, ok := findScenario(cfg.Scenario, cfg.Registry)
	if !ok {
		return fmt.Errorf("no scenario %q", cfg.Scenario)
	}
	cli, err := newClient(cfg, sc.ClientOptions()...)
	if err != nil {
		return err
	}
	calls, err := sc.Bind(cli)
	if err != nil {
		return err
	}
	for _, c := range calls {
		if err := discover(c.Do, cfg.Scenario+"/discover "+c.Name()); err != nil {
			return fmt.Errorf("%s finds no provider: %v", c.Name(), err)
		}
	}
	results := make([]callResult, len(calls))
	for i, c := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := c.Do(ctx, &e2ev1.Request{Id: cfg.Scenario + "/" + c.Name(), Fail: 1000})
		cancel()
		results[i] = callResult{Name: c.Name(), Want: c.Retries + 1, WantCode: triple_protocol.CodeUnavailable.String()}
		if err != nil {
			results[i].Code = triple_protocol.CodeOf(err).String()
			results[i].Err = err.Error()
		}
	}
	if err := addAttempts(results, cfg.Counts, cfg.Scenario); err != nil {
		return err
	}
	say(message{Calls: results})
	return nil
}

// addAttempts adds to each of results the attempts of its call (whose id
// is prefix/name) that the providers serving their counts at addrs saw.
func addAttempts(results []callResult, addrs []string, prefix string) error {
	for _, addr := range addrs {
		seen, err := testbed.ReadAttempts(addr)
		if err != nil {
			return err
		}
		for i := range results {
			results[i].Attempts += seen[prefix+"/"+results[i].Name]
		}
	}
	return nil
}

// maxConsumers bounds the consumer processes that run at once. They spend
// most of their time waiting for ZooKeeper and for each other.
const maxConsumers = 6

// An outcome is what a consumer process said, and how it exited.
type outcome struct {
	msgs []message
	err  error
}

// consumeEach runs a consumer process for each of names, with the
// configuration cfg gives it, at most maxConsumers at once, and then, in a
// subtest of each, check with the one message the consumer said, which
// ok must accept.
func consumeEach(t *testing.T, names []string, cfg func(name string) consumerConfig, ok func(message) bool, check func(t *testing.T, name string, m message)) {
	t.Helper()
	outcomes := make([]outcome, len(names))
	sem := make(chan struct{}, maxConsumers)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			outcomes[i].msgs, outcomes[i].err = runConsumer(t, name, cfg(name), 2*time.Minute)
		})
	}
	wg.Wait()
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			o := outcomes[i]
			if o.err != nil {
				t.Fatal(o.err)
			}
			if len(o.msgs) != 1 || !ok(o.msgs[0]) {
				t.Fatalf("the consumer said %+v, want the results of its calls", o.msgs)
			}
			check(t, name, o.msgs[0])
		})
	}
}

// checkScenarios runs a consumer process for each scenario, several at
// once, and checks that each call failed with CodeUnavailable after the
// attempts it must make. It returns the results, by scenario.
func checkScenarios(t *testing.T, r testbed.Registry, p *testbed.Provider, scenarios []precedence.Scenario) map[string][]callResult {
	t.Helper()
	names := make([]string, len(scenarios))
	for i, sc := range scenarios {
		names[i] = sc.Name
	}
	out := make(map[string][]callResult)
	consumeEach(t, names, func(name string) consumerConfig {
		return consumerConfig{Registry: r, Scenario: name, Counts: []string{p.HTTP}}
	}, func(m message) bool { return m.Calls != nil }, func(t *testing.T, name string, m message) {
		for _, c := range m.Calls {
			checkCall(t, c)
		}
		out[name] = m.Calls
	})
	return out
}

// logResults prints the attempts of every call of every scenario.
func logResults(t *testing.T, scenarios []precedence.Scenario, results map[string][]callResult) {
	t.Helper()
	var b []byte
	for _, sc := range scenarios {
		b = fmt.Appendf(b, "\n  %s:", sc.Name)
		for _, c := range results[sc.Name] {
			b = fmt.Appendf(b, " %s=%d", c.Name, c.Attempts)
		}
	}
	t.Logf("attempts per call (want = got unless reported above):%s", b)
}

// attemptsFilter is a consumer filter that records every attempt of every
// call, by request id: dubbo-go runs filters beneath the failover cluster,
// once per attempt, on the invoker of the provider tried.
const attemptsFilter = "registrytest-attempts"

// An attempt is one attempt of a call, as the consumer saw it.
type attempt struct {
	Provider string // host:port
	Code     string `json:",omitempty"` // "" for success
	// URL and Err describe an attempt on an invoker without an address
	// (Provider ""), which is no provider: see testZooKeeperRestarted.
	URL string `json:",omitempty"`
	Err string `json:",omitempty"`
}

// attemptLog holds the attempts of every call, by request id.
var attemptLog = struct {
	sync.Mutex
	calls map[string][]attempt
}{calls: make(map[string][]attempt)}

func takeAttempts(id string) []attempt {
	attemptLog.Lock()
	defer attemptLog.Unlock()
	a := attemptLog.calls[id]
	delete(attemptLog.calls, id)
	return a
}

func init() {
	observeAttempts(attemptsFilter, func(invoker base.Invoker, inv base.Invocation, res result.Result) {
		id, ok := requestID(inv)
		if !ok {
			return
		}
		a := attempt{Provider: invoker.GetURL().Location}
		if err := res.Error(); err != nil {
			a.Code = triple_protocol.CodeOf(err).String()
			if a.Provider == "" {
				a.URL, a.Err = invoker.GetURL().String(), err.Error()
			}
		}
		attemptLog.Lock()
		attemptLog.calls[id] = append(attemptLog.calls[id], a)
		attemptLog.Unlock()
	})
}

// observeAttempts registers, as the consumer filter called name, observe:
// dubbo-go runs filters beneath the cluster, once per attempt, on the
// invoker of the provider tried.
func observeAttempts(name string, observe func(base.Invoker, base.Invocation, result.Result)) {
	extension.SetFilter(name, func() filter.Filter { return attemptObserver(observe) })
}

// An attemptObserver is a filter that observes every attempt.
type attemptObserver func(base.Invoker, base.Invocation, result.Result)

func (o attemptObserver) Invoke(ctx context.Context, invoker base.Invoker, inv base.Invocation) result.Result {
	res := invoker.Invoke(ctx, inv)
	o(invoker, inv, res)
	return res
}

func (attemptObserver) OnResponse(_ context.Context, res result.Result, _ base.Invoker, _ base.Invocation) result.Result {
	return res
}

// requestID returns the id of the e2e/v1 request of inv.
func requestID(inv base.Invocation) (string, bool) {
	for _, args := range [][]any{inv.Arguments(), inv.ParameterRawValues()} {
		for _, a := range args {
			if req, ok := a.(*e2ev1.Request); ok {
				return req.Id, true
			}
		}
	}
	return "", false
}

// loadConfig configures a load: Calls calls of GuardedService.Read, whose
// .proto gives it 2 retries (or, with Faults, FaultService.Read: 3 retries,
// with backoff), from Workers goroutines, at most Rate calls a second in
// all.
type loadConfig struct {
	Calls, Workers, Rate int
	Faults               bool `json:",omitempty"`
	// Providers is the number of providers the consumer must have called
	// before the load starts.
	Providers int
	// Await, if set, makes the consumer read the address of a provider on
	// standard input, and go on calling after the load until a call lands
	// on that provider, for at most awaitFor.
	Await bool `json:",omitempty"`
}

// awaitFor bounds the calls a load makes after its end to reach the
// provider it awaits.
const awaitFor = 5 * time.Second

// awaitResult is what a consumer reports of the calls it made after a load
// to reach a provider.
type awaitResult struct {
	Provider string
	// First is when the first call that provider served started, in Unix
	// nanoseconds, or 0 if none did.
	First int64
	// Calls are the calls made after the load.
	Calls []loadCall
}

// progress is the message a load prints every progressEvery calls.
type progress struct {
	Done, Failed int
}

const progressEvery = 250

// loadResult is what a consumer reports of a load.
type loadResult struct {
	Start int64 // when the load started, in Unix nanoseconds
	Calls []loadCall
	Await *awaitResult `json:",omitempty"`
}

// loadCall is one call of a load.
type loadCall struct {
	Start, End int64 // Unix nanoseconds
	Attempts   []attempt
	Code       string `json:",omitempty"` // "" for success
	Err        string `json:",omitempty"`
}

// runLoad makes the calls of cfg.Load and reports each, with its attempts.
func runLoad(cfg consumerConfig) error {
	load := cfg.Load
	cli, err := newClient(cfg, client.WithClientFilter(attemptsFilter))
	if err != nil {
		return err
	}
	var svc reader
	if load.Faults {
		svc, err = e2ev1.NewFaultService(cli)
	} else {
		svc, err = e2ev1.NewGuardedService(cli)
	}
	if err != nil {
		return err
	}
	// Call until every provider has answered.
	seen := make(map[string]bool)
	n := 0
	if err := testbed.Await(discoveryTimeout, 50*time.Millisecond, func() error {
		n++
		id := fmt.Sprintf("discover#%d", n)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := svc.Read(ctx, &e2ev1.Request{Id: id})
		for _, a := range takeAttempts(id) {
			if a.Code == "" {
				seen[a.Provider] = true
			}
		}
		if err != nil {
			return err
		}
		if len(seen) < load.Providers {
			return fmt.Errorf("%d of %d providers answered", len(seen), load.Providers)
		}
		return nil
	}); err != nil {
		return err
	}

	calls := make([]loadCall, load.Calls)
	next := make(chan int)
	start := time.Now()
	go func() {
		defer close(next)
		for i := range calls {
			if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(load.Rate))); d > 0 {
				time.Sleep(d)
			}
			next <- i
		}
	}()
	var done, failed atomic.Int64
	var sayMu sync.Mutex
	var wg sync.WaitGroup
	for range load.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				calls[i] = read(svc, fmt.Sprintf("load#%d", i), 10*time.Second)
				if calls[i].Code != "" {
					failed.Add(1)
				}
				if d := done.Add(1); d%progressEvery == 0 {
					sayMu.Lock()
					say(message{Progress: &progress{Done: int(d), Failed: int(failed.Load())}})
					sayMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	res := &loadResult{Start: start.UnixNano(), Calls: calls}
	if load.Await {
		var err error
		if res.Await, err = await(svc, calls, awaited); err != nil {
			return err
		}
	}
	sayMu.Lock()
	defer sayMu.Unlock()
	say(message{Load: res})
	return nil
}

// awaited receives the provider address a load awaits, read from standard
// input.
var awaited = make(chan string, 1)

func init() {
	go func() {
		if childproc.Role() != "consumer" {
			return
		}
		s := bufio.NewScanner(os.Stdin)
		for s.Scan() {
			if addr, ok := strings.CutPrefix(s.Text(), "await "); ok {
				awaited <- addr
			}
		}
	}()
}

// await finds the first call of the load that the provider read from
// addrs served, and if none did, goes on calling, about 100 calls a second,
// until one does or awaitFor has passed.
func await(svc reader, calls []loadCall, addrs <-chan string) (*awaitResult, error) {
	var addr string
	select {
	case addr = <-addrs:
	case <-time.After(time.Minute):
		return nil, errors.New("no provider to await came on standard input")
	}
	res := &awaitResult{Provider: addr}
	for _, c := range calls {
		for _, a := range c.Attempts {
			if a.Provider == addr && a.Code == "" && (res.First == 0 || c.Start < res.First) {
				res.First = c.Start
			}
		}
	}
	deadline := time.Now().Add(awaitFor)
	for res.First == 0 && time.Now().Before(deadline) {
		c := read(svc, fmt.Sprintf("await#%d", len(res.Calls)), 5*time.Second)
		for _, a := range c.Attempts {
			if a.Provider == addr && a.Code == "" {
				res.First = c.Start
			}
		}
		res.Calls = append(res.Calls, c)
		time.Sleep(10 * time.Millisecond)
	}
	return res, nil
}

// reader is a service with a Read method: GuardedService, FaultService.
type reader interface {
	Read(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)
}

// read calls Read with id, for at most d, and returns the call, with its
// attempts, as a load reports it.
func read(svc reader, id string, d time.Duration) loadCall {
	c := loadCall{Start: time.Now().UnixNano()}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	_, err := svc.Read(ctx, &e2ev1.Request{Id: id})
	cancel()
	c.End = time.Now().UnixNano()
	c.Attempts = takeAttempts(id)
	if err != nil {
		c.Code = triple_protocol.CodeOf(err).String()
		c.Err = err.Error()
	}
	return c
}

// histogram formats how many calls made each number of attempts, in order.
func histogram(counts map[int]int) string {
	var b []byte
	for i, k := range slices.Sorted(maps.Keys(counts)) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "%d with %d", counts[k], k)
	}
	return string(b)
}
