package bench

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// policyServices returns LayerService without a policy (policy=none:
// dubbo-go's failover cluster) and FullPolicyService, whose .proto declares
// one (policy=proto: the cluster of dubboretry, which deposits every call's
// first attempt in the budget and looks the method's rule up). Their
// Declared methods have the same .proto retries (3), FullPolicyService's
// also retry_on, a backoff and a budget; the benchmarks' server answers
// both at once.
func policyServices(b *testing.B) []struct {
	name string
	svc  declared
} {
	cli := newClient(b)
	none := testbed.Try(e2ev1.NewLayerService(cli)).Must(b)
	proto := testbed.Try(e2ev1.NewFullPolicyService(cli)).Must(b)
	return []struct {
		name string
		svc  declared
	}{{"none", none}, {"proto", proto}}
}

// declared is what the benchmarks call of LayerService and
// FullPolicyService.
type declared interface {
	Declared(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)
}

// BenchmarkPolicyCall is one successful unary call of Declared on a
// loopback echo server, of a service without a policy (LayerService) and of
// one whose .proto declares one (FullPolicyService): what a policy costs a
// call that needs no retry. Compare with
//
//	benchstat -col /policy results.txt
func BenchmarkPolicyCall(b *testing.B) {
	ctx := context.Background()
	req := &e2ev1.Request{Id: "bench"}
	for _, s := range policyServices(b) {
		benchCall(b, "policy="+s.name, func() (*e2ev1.Response, error) { return s.svc.Declared(ctx, req) })
	}
}

// BenchmarkPolicyCallParallel is BenchmarkPolicyCall from 32 goroutines
// sharing the service, and so its budget, whatever -cpu is:
//
//	go test -run '^$' -bench PolicyCallParallel -cpu 1,2,4 ./internal/bench
//
// ns/op is the wall time per call: the throughput of the 32 goroutines.
func BenchmarkPolicyCallParallel(b *testing.B) {
	ctx := context.Background()
	for _, s := range policyServices(b) {
		b.Run("policy="+s.name, func(b *testing.B) {
			resp, err := s.svc.Declared(ctx, &e2ev1.Request{Id: "bench"})
			checkAnswer(b, resp, err)
			b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := &e2ev1.Request{Id: "bench"}
				for pb.Next() {
					if _, err := s.svc.Declared(ctx, req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkPolicyCallPaired measures the two calls of BenchmarkPolicyCall
// in one loop, alternating them call by call (none, proto, proto, none,
// ...; see pairs). It reports, besides the mean time of each call
// (ns/call-none, ns/call-proto), the median over the pairs of the ratio of
// the two times, as a difference (%proto-vs-none).
//
// goroutines=32 runs the loop in 32 goroutines whatever -cpu is, all
// sharing both services, and so the budget of proto: run it with
// -cpu 1,2,4 for the budget under contention.
func BenchmarkPolicyCallPaired(b *testing.B) {
	ctx := context.Background()
	services := policyServices(b)
	for _, s := range services {
		resp, err := s.svc.Declared(ctx, &e2ev1.Request{Id: "bench"})
		checkAnswer(b, resp, err)
	}
	// calls are the calls of a goroutine: none, then proto.
	calls := func() [2]func() error {
		req := &e2ev1.Request{Id: "bench"}
		return [2]func() error{
			func() error { _, err := services[0].svc.Declared(ctx, req); return err },
			func() error { _, err := services[1].svc.Declared(ctx, req); return err },
		}
	}
	report := func(b *testing.B, p *pairs) {
		b.ReportMetric(100*(p.report(b, "ns/call-none", "ns/call-proto")-1), "%proto-vs-none")
	}
	b.Run("goroutines=1", func(b *testing.B) {
		calls := calls()
		var p pairs
		for n := 0; b.Loop(); n++ {
			if err := p.pair(n, calls); err != nil {
				b.Fatal(err)
			}
		}
		report(b, &p)
	})
	b.Run("goroutines=32", func(b *testing.B) {
		var (
			mu  sync.Mutex
			all pairs
		)
		b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			calls := calls()
			var p pairs
			for n := 0; pb.Next(); n++ {
				if err := p.pair(n, calls); err != nil {
					b.Error(err)
					return
				}
			}
			mu.Lock()
			all.add(p)
			mu.Unlock()
		})
		report(b, &all)
	})
}
