package bench

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// BenchmarkHedgeCall is one unary call of HedgeService, echoed at once by
// the benchmarks' server: what hedging costs a call that needs no second
// copy, and what it leaves alone.
//
//   - method=Write: Write is not idempotent, and never hedged: through the
//     generated stub (the cluster's loop of retries, as for any method
//     without hedging) and as the bare client.Connection.CallUnary on a
//     connection dialed with the same ClientInfo and no options (dubbo-go's
//     failover).
//   - method=Read: the .proto hedges Read (2 copies, 100 ms apart), and the
//     first copy answers long before the delay: through the stub (the
//     hedged path: a copy of the invocation, a goroutine, a timer), through
//     a stub given dubboretry.WithoutHedging (the loop of retries), and
//     bare.
//
// Compare with
//
//	benchstat -col /via results.txt
func BenchmarkHedgeCall(b *testing.B) {
	cli := newClient(b)
	hedged, err := e2ev1.NewHedgeService(cli)
	if err != nil {
		b.Fatal(err)
	}
	unhedged, err := e2ev1.NewHedgeService(cli, dubboretry.WithoutHedging())
	if err != nil {
		b.Fatal(err)
	}
	conn, err := cli.DialWithInfo(e2ev1.HedgeServiceName, &e2ev1.HedgeService_ClientInfo)
	if err != nil {
		b.Fatal(err)
	}
	bare := func(method string) func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error) {
		return func(ctx context.Context, req *e2ev1.Request, opts ...client.CallOption) (*e2ev1.Response, error) {
			resp := new(e2ev1.Response)
			if err := conn.CallUnary(ctx, []any{req}, resp, method, opts...); err != nil {
				return nil, err
			}
			return resp, nil
		}
	}
	ctx := context.Background()
	req := &e2ev1.Request{Id: "bench"}
	for _, tc := range []struct {
		name string
		call func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)
	}{
		{"method=Write/via=stub", hedged.Write},
		{"method=Write/via=bare", bare("Write")},
		{"method=Read/via=stub", hedged.Read},
		{"method=Read/via=stub-WithoutHedging", unhedged.Read},
		{"method=Read/via=bare", bare("Read")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			// The first call opens the connection.
			resp, err := tc.call(ctx, req)
			check(b, resp, err)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.call(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHedgeCallPaired measures the hedged Read of BenchmarkHedgeCall
// (via=stub) against the same call on a service given
// dubboretry.WithoutHedging (the loop of retries) in one loop, alternating
// them call by call, as BenchmarkPolicyCallPaired does: it reports the
// mean time of each (ns/call-unhedged, ns/call-hedged) and the median over
// the pairs of the difference (%hedged-vs-unhedged), which a stall of the
// host that hits both calls of a pair leaves alone.
//
//	go -C example test -run '^$' -bench HedgeCallPaired -count 6 ./internal/bench
func BenchmarkHedgeCallPaired(b *testing.B) {
	cli := newClient(b)
	hedged, err := e2ev1.NewHedgeService(cli)
	if err != nil {
		b.Fatal(err)
	}
	unhedged, err := e2ev1.NewHedgeService(cli, dubboretry.WithoutHedging())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := &e2ev1.Request{Id: "bench"}
	for _, svc := range []e2ev1.HedgeService{hedged, unhedged} {
		resp, err := svc.Read(ctx, req)
		check(b, resp, err)
	}
	var (
		spent  [2]time.Duration
		ratios []float64 // log(hedged / unhedged), per pair
	)
	n := 0
	for b.Loop() {
		var took [2]time.Duration
		for k := range 2 {
			i := k ^ n&1
			svc := unhedged
			if i == 1 {
				svc = hedged
			}
			start := time.Now()
			if _, err := svc.Read(ctx, req); err != nil {
				b.Fatal(err)
			}
			took[i] = time.Since(start)
		}
		spent[0] += took[0]
		spent[1] += took[1]
		ratios = append(ratios, math.Log(float64(took[1])/float64(took[0])))
		n++
	}
	slices.Sort(ratios)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(spent[0])/float64(n), "ns/call-unhedged")
	b.ReportMetric(float64(spent[1])/float64(n), "ns/call-hedged")
	b.ReportMetric(100*(math.Exp(ratios[len(ratios)/2])-1), "%hedged-vs-unhedged")
}
