package registry

import (
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/precedence"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
)

// timeoutScenarios are the rows of precedence.Timeouts, the timeout column
// of docs/design.md, "Timeouts", as probe scenarios: each row in a consumer
// process of its own, which makes the row's calls at once.
var timeoutScenarios = func() []probeScenario {
	var out []probeScenario
	for _, r := range precedence.Timeouts {
		out = append(out, probeScenario{
			name: "timeouts: " + r.Name,
			start: func(cfg consumerConfig) ([]probeCall, []probe, error) {
				cli, err := newClient(cfg, r.ClientOptions()...)
				if err != nil {
					return nil, nil, err
				}
				calls, discover, err := r.Bind(cli)
				if err != nil {
					return nil, nil, err
				}
				probes := make([]probe, len(calls))
				for i, c := range r.Calls {
					probes[i] = probe{name: c.Name, call: calls[i], want: c.Attempts, code: c.Code}
				}
				return discover, probes, nil
			},
		})
	}
	return out
}()

// TestTimeoutsThroughZooKeeper checks the timeout column of docs/design.md,
// "Timeouts", with providers found through ZooKeeper, registered at the
// interface level and with dubbo-go's default registration: each call of
// each row must make as many attempts as with a direct URL
// (example/internal/e2e).
func TestTimeoutsThroughZooKeeper(t *testing.T) {
	t.Parallel()
	eachRegistration(t, func(t *testing.T, r testbed.Registry) {
		p := startProvider(t, "A", r, testbed.ProviderConfig{Services: testbed.TimeoutServices})
		reports := checkProbeScenarios(t, r, p, timeoutScenarios, nil)
		logProbes(t, timeoutScenarios, reports)
	})
}
