// Package failover tests a generated client against several providers of
// one service, where retries become failover: dubbo-go's failover cluster
// sends a retry to another provider.
//
// A process can export a service only once ("service already defined"), so
// each provider is a process of its own (testbed.StartProviders), which
// serves LayerService and fails every call (mode "fail") or none ("ok").
package failover

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

func TestMain(m *testing.M) {
	testbed.Main(nil)
	os.Exit(m.Run())
}

// TestFailoverAcrossProviders calls LayerService, whose .proto gives
// Declared 3 retries and Never 0, on providers that always fail with a
// retryable error and one that always succeeds, and counts where each
// attempt of each call lands.
//
// What dubbo-go v3.3.2's failover cluster does, as observed here and as its
// code (cluster/cluster/failover, base.doSelectInvoker) says:
//   - The first attempt goes to a provider that the load balancer (random,
//     by default) picks from all of them: about half the calls start on the
//     failing provider when there are two providers, two thirds when two of
//     three fail.
//   - A retry never returns to a provider that already failed the call: the
//     cluster passes the providers it has invoked to the selection, which
//     picks again among the others. So each failing provider sees at most one
//     attempt of a call, and with r retries a call reaches r + 1 distinct
//     providers before it gives up. Here every call ends on the healthy
//     provider, after 0, 1 or (with three providers) 2 failed attempts.
//   - Only when every provider has been tried does the selection fall back
//     to one already invoked (not reached here: 3 retries, at most 3
//     providers).
//   - The .proto default decides how far failover goes: Never, with 0
//     retries, makes one attempt and fails whenever it lands on a failing
//     provider.
func TestFailoverAcrossProviders(t *testing.T) {
	ps := testbed.StartProviders(t, []string{"LayerService"}, "fail", "ok", "fail")
	failA, healthy, failB := ps[0], ps[1], ps[2]

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const calls = 200

	for _, topo := range []struct {
		name      string
		providers []*testbed.Provider
	}{
		{"one of two fails", []*testbed.Provider{failA, healthy}},
		{"two of three fail", []*testbed.Provider{failA, healthy, failB}},
	} {
		t.Run(topo.name, func(t *testing.T) {
			svc := service(t, topo.providers)
			ids := make([]string, calls)
			for i := range ids {
				ids[i] = fmt.Sprintf("%s#%d", t.Name(), i)
				resp, err := svc.Declared(ctx, &e2ev1.Request{Id: ids[i]})
				if err != nil {
					t.Fatalf("%s: %v; want success, with 3 retries over %d providers", ids[i], err, len(topo.providers))
				}
				if resp.Id != ids[i] || resp.Attempts != 1 {
					t.Errorf("%s: answered %v, want its id and the healthy provider's first attempt", ids[i], resp)
				}
			}

			seen := testbed.Counts(t, failA, healthy, failB)
			// byFailures[n] is the number of calls that failed n times
			// before they succeeded.
			byFailures := make([]int, len(topo.providers))
			for _, id := range ids {
				a, h, b := seen[0][id], seen[1][id], seen[2][id]
				if h != 1 {
					t.Errorf("%s: the healthy provider saw %d attempts, want 1", id, h)
				}
				if a > 1 || b > 1 {
					t.Errorf("%s: the failing providers saw %d and %d attempts; a retry went back to a provider that had failed it", id, a, b)
				}
				if len(topo.providers) == 2 && b != 0 {
					t.Errorf("%s: a provider the client was not given saw %d attempts", id, b)
				}
				if n := int(a + b); n < len(byFailures) {
					byFailures[n]++
				}
			}
			if byFailures[0] == calls {
				t.Errorf("no call of %d reached a failing provider: failover was not exercised", calls)
			}
			t.Logf("%d calls over %d providers: %v calls succeeded after 0, 1, ... failed attempts", calls, len(topo.providers), byFailures)
		})
	}

	t.Run("no retries, no failover", func(t *testing.T) {
		svc := service(t, []*testbed.Provider{failA, healthy})
		ids := make([]string, calls)
		succeeded := 0
		for i := range ids {
			ids[i] = fmt.Sprintf("%s#%d", t.Name(), i)
			_, err := svc.Never(ctx, &e2ev1.Request{Id: ids[i]})
			switch {
			case err == nil:
				succeeded++
			case triple_protocol.CodeOf(err) != triple_protocol.CodeUnavailable:
				t.Errorf("%s: %v, want success or %v", ids[i], err, triple_protocol.CodeUnavailable)
			}
		}
		seen := testbed.Counts(t, failA, healthy)
		landedHealthy := 0
		for _, id := range ids {
			if a, h := seen[0][id], seen[1][id]; a+h != 1 {
				t.Errorf("%s: %d attempts on the failing provider and %d on the healthy one, want 1 in all", id, a, h)
			}
			landedHealthy += int(seen[1][id])
		}
		if succeeded != landedHealthy {
			t.Errorf("%d calls succeeded, but %d landed on the healthy provider", succeeded, landedHealthy)
		}
		if succeeded == 0 || succeeded == calls {
			t.Errorf("%d of %d calls succeeded: the load balancer did not spread them", succeeded, calls)
		}
		t.Logf("%d calls with 0 retries over 2 providers: %d succeeded, %d failed", calls, succeeded, calls-succeeded)
	})
}

// A .proto default must not change how calls are routed: dubbo-go sets a
// method's sticky along with its retries, so the default of Declared must
// carry the service's sticky, or Declared would stop sticking to one
// provider while Undeclared sticks.
func TestStickyWithProtoDefaults(t *testing.T) {
	providers := testbed.StartProviders(t, []string{"LayerService"}, "ok", "ok")
	svc := service(t, providers, client.WithSticky())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const calls = 40
	for _, method := range []struct {
		name string
		call func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)
	}{
		{"Declared", svc.Declared},
		{"Undeclared", svc.Undeclared},
	} {
		ids := make([]string, calls)
		for i := range ids {
			ids[i] = fmt.Sprintf("%s/%s#%d", t.Name(), method.name, i)
			if _, err := method.call(ctx, &e2ev1.Request{Id: ids[i]}); err != nil {
				t.Fatalf("%s: %v", ids[i], err)
			}
		}
		seen := testbed.Counts(t, providers...)
		var landed [2]int
		for _, id := range ids {
			for p := range providers {
				landed[p] += int(seen[p][id])
			}
		}
		if landed[0] != calls && landed[1] != calls {
			t.Errorf("%s with WithSticky: %d calls on one provider and %d on the other, want all on one",
				method.name, landed[0], landed[1])
		}
	}
}

// service returns a LayerService, created with opts, that reaches
// providers directly.
func service(t *testing.T, providers []*testbed.Provider, opts ...client.ReferenceOption) e2ev1.LayerService {
	t.Helper()
	cli, err := client.NewClient(client.WithClientURL(testbed.URL(providers)))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := e2ev1.NewLayerService(cli, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
