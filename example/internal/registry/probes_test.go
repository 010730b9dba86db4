package registry

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/result"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/precedence"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
)

// A probeScenario is a consumer configuration whose calls run at once, each
// asking the provider for a behaviour of its own (to fail, or to be slow).
// Where a scenario (layers_test.go) wants every attempt to fail, a probe
// scenario also wants calls that succeed, or that a timeout ends.
type probeScenario struct {
	name string
	// start runs in the consumer process: it creates the scenario's client
	// and services, and returns the calls that find the providers (each
	// must succeed at once) and the probes.
	start func(cfg consumerConfig) (discover []probeCall, probes []probe, err error)
}

// probeCall makes a call with request id, and returns its error.
type probeCall = precedence.SlowCall

// A probe is one call of a probe scenario.
type probe struct {
	name string
	call probeCall
	// want is the attempts the providers must see, if the scenario knows
	// them (else the test does); code is the code the call must end with,
	// 0 for success.
	want uint32
	code triple_protocol.Code
}

// probeReport is what a consumer reports of a probe scenario: its calls,
// and the retries and timeouts of the URL its calls went to, as merged
// from the provider's and its own (see urlParamsFilter).
type probeReport struct {
	Calls  []callResult
	Params map[string]string
}

// findProbeScenario returns the probe scenario called name, of any test.
func findProbeScenario(name string) (probeScenario, bool) {
	for _, list := range [][]probeScenario{timeoutScenarios, publishScenarios} {
		for _, s := range list {
			if s.name == name {
				return s, true
			}
		}
	}
	return probeScenario{}, false
}

// runProbes runs the probe scenario of cfg: it finds the providers, makes
// every probe's call at once, and reports the attempts the providers saw.
func runProbes(cfg consumerConfig) error {
	sc, ok := findProbeScenario(cfg.Probes)
	if !ok {
		return fmt.Errorf("no probe scenario %q", cfg.Probes)
	}
	discover, probes, err := sc.start(cfg)
	if err != nil {
		return err
	}
	for i, d := range discover {
		if err := discoverBy(d, fmt.Sprintf("%s/discover %d", cfg.Probes, i)); err != nil {
			return fmt.Errorf("service %d finds no provider: %v", i, err)
		}
	}
	results := make([]callResult, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := p.call(context.Background(), cfg.Probes+"/"+p.name)
			results[i] = callResult{Name: p.name, Want: p.want}
			if p.code != 0 {
				results[i].WantCode = p.code.String()
			}
			if err != nil {
				results[i].Code = triple_protocol.CodeOf(err).String()
				results[i].Err = err.Error()
			}
		}()
	}
	wg.Wait()
	if err := addAttempts(results, cfg.Counts, cfg.Probes); err != nil {
		return err
	}
	say(message{Probes: &probeReport{Calls: results, Params: seenParams()}})
	return nil
}

// checkProbeScenarios runs a consumer process for each scenario, several
// at once, and checks that each call ended with the code it wants, after
// the attempts it wants: want[scenario][call] where given, else the
// scenario's own. It returns the reports, by scenario.
func checkProbeScenarios(t *testing.T, r testbed.Registry, p *testbed.Provider, scenarios []probeScenario, want map[string]map[string]uint32) map[string]*probeReport {
	t.Helper()
	names := make([]string, len(scenarios))
	for i, sc := range scenarios {
		names[i] = sc.name
	}
	out := make(map[string]*probeReport)
	consumeEach(t, names, func(name string) consumerConfig {
		return consumerConfig{Registry: r, Probes: name, Counts: []string{p.HTTP}}
	}, func(m message) bool { return m.Probes != nil }, func(t *testing.T, name string, m message) {
		rep := m.Probes
		for j, c := range rep.Calls {
			if w, ok := want[name][c.Name]; ok {
				c.Want = w
				rep.Calls[j].Want = w
			} else if want != nil {
				t.Errorf("%s: the test expects no attempts for it", c.Name)
			}
			checkCall(t, c)
		}
		out[name] = rep
	})
	return out
}

// logProbes prints the attempts of every call of every scenario.
func logProbes(t *testing.T, scenarios []probeScenario, reports map[string]*probeReport) {
	t.Helper()
	var b []byte
	for _, sc := range scenarios {
		rep := reports[sc.name]
		if rep == nil {
			continue
		}
		b = fmt.Appendf(b, "\n  %s:", sc.name)
		for _, c := range rep.Calls {
			b = fmt.Appendf(b, "\n    %s: %d", c.Name, c.Attempts)
		}
	}
	t.Logf("attempts per call (want = got unless reported above):%s", b)
}

// urlParamsFilter is a consumer filter that records the retries and
// timeouts of the URL of every provider invoker it runs on: the provider's
// URL, as the consumer learned it from the registry, merged with the
// consumer's own (common.URL.MergeURL).
const urlParamsFilter = "registrytest-url-params"

// param matches the URL parameters the filter records: the retries of the
// interface, and the retries and timeout of each method. (The interface's
// timeout is always the consumer's: dubbo-go sets it on every reference.)
var param = regexp.MustCompile(`^(retries|methods\.[^.]+\.(retries|timeout))$`)

var urlParams = struct {
	sync.Mutex
	seen map[string]string
}{seen: make(map[string]string)}

// seenParams returns the parameters the filter has recorded.
func seenParams() map[string]string {
	urlParams.Lock()
	defer urlParams.Unlock()
	out := make(map[string]string, len(urlParams.seen))
	for k, v := range urlParams.seen {
		out[k] = v
	}
	return out
}

func init() {
	observeAttempts(urlParamsFilter, func(invoker base.Invoker, _ base.Invocation, _ result.Result) {
		urlParams.Lock()
		defer urlParams.Unlock()
		invoker.GetURL().RangeParams(func(k, v string) bool {
			if v != "" && param.MatchString(k) {
				urlParams.seen[k] = v
			}
			return true
		})
	})
}

// formatParams formats parameters in key order.
func formatParams(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, " ") + "}"
}
