package bench

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"

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
	none, err := e2ev1.NewLayerService(cli)
	if err != nil {
		b.Fatal(err)
	}
	proto, err := e2ev1.NewFullPolicyService(cli)
	if err != nil {
		b.Fatal(err)
	}
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
		b.Run("policy="+s.name, func(b *testing.B) {
			resp, err := s.svc.Declared(ctx, req)
			check(b, resp, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.svc.Declared(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
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
			check(b, resp, err)
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
// ...). A host busy with other work makes the time of a call vary far more
// than a policy changes it; two calls made back to back share the same
// conditions. So it reports, besides the mean time of each call
// (ns/call-none, ns/call-proto), the median over the pairs of the ratio of
// the two times, as a difference (%proto-vs-none): a stall that hits both
// calls of a pair cancels out, and one that hits one call moves the median
// no more than any other pair. Timing each call adds the same two clock
// readings to both.
//
// goroutines=32 runs the loop in 32 goroutines whatever -cpu is, all
// sharing both services, and so the budget of proto: run it with
// -cpu 1,2,4 for the budget under contention.
func BenchmarkPolicyCallPaired(b *testing.B) {
	ctx := context.Background()
	services := policyServices(b)
	none, proto := services[0].svc, services[1].svc
	for _, s := range services {
		resp, err := s.svc.Declared(ctx, &e2ev1.Request{Id: "bench"})
		check(b, resp, err)
	}
	// pairs records the pairs of one goroutine.
	type pairs struct {
		spent  [2]time.Duration
		ratios []float64 // log(proto / none), per pair
	}
	// pair makes a pair of calls, proto first when n is odd.
	pair := func(n int, req *e2ev1.Request, p *pairs) error {
		var took [2]time.Duration
		for k := range 2 {
			i := k ^ n&1
			svc := none
			if i == 1 {
				svc = proto
			}
			start := time.Now()
			if _, err := svc.Declared(ctx, req); err != nil {
				return err
			}
			took[i] = time.Since(start)
		}
		p.spent[0] += took[0]
		p.spent[1] += took[1]
		p.ratios = append(p.ratios, math.Log(float64(took[1])/float64(took[0])))
		return nil
	}
	report := func(b *testing.B, all pairs) {
		n := float64(len(all.ratios))
		slices.Sort(all.ratios)
		median := all.ratios[len(all.ratios)/2]
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(all.spent[0])/n, "ns/call-none")
		b.ReportMetric(float64(all.spent[1])/n, "ns/call-proto")
		b.ReportMetric(100*(math.Exp(median)-1), "%proto-vs-none")
	}
	b.Run("goroutines=1", func(b *testing.B) {
		req := &e2ev1.Request{Id: "bench"}
		var p pairs
		n := 0
		for b.Loop() {
			if err := pair(n, req, &p); err != nil {
				b.Fatal(err)
			}
			n++
		}
		report(b, p)
	})
	b.Run("goroutines=32", func(b *testing.B) {
		var (
			mu  sync.Mutex
			all pairs
		)
		b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			req := &e2ev1.Request{Id: "bench"}
			var p pairs
			for n := 0; pb.Next(); n++ {
				if err := pair(n, req, &p); err != nil {
					b.Error(err)
					return
				}
			}
			mu.Lock()
			all.spent[0] += p.spent[0]
			all.spent[1] += p.spent[1]
			all.ratios = append(all.ratios, p.ratios...)
			mu.Unlock()
		})
		report(b, all)
	})
}
