package bench

import (
	"context"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
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
	cli, hedged, unhedged := hedgeServices(b)
	conn := testbed.Try(cli.DialWithInfo(e2ev1.HedgeServiceName, &e2ev1.HedgeService_ClientInfo)).Must(b)
	ctx := context.Background()
	req := &e2ev1.Request{Id: "bench"}
	for _, tc := range []struct {
		name string
		call func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)
	}{
		{"method=Write/via=stub", hedged.Write},
		{"method=Write/via=bare", bare[e2ev1.Request, e2ev1.Response](conn, "Write")},
		{"method=Read/via=stub", hedged.Read},
		{"method=Read/via=stub-WithoutHedging", unhedged.Read},
		{"method=Read/via=bare", bare[e2ev1.Request, e2ev1.Response](conn, "Read")},
	} {
		benchCall(b, tc.name, func() (*e2ev1.Response, error) { return tc.call(ctx, req) })
	}
}

// hedgeServices returns a client of the benchmarks' server, and
// HedgeService created from it as the .proto says (hedged) and with
// dubboretry.WithoutHedging (unhedged).
func hedgeServices(b *testing.B) (cli *client.Client, hedged, unhedged e2ev1.HedgeService) {
	cli = newClient(b)
	hedged = testbed.Try(e2ev1.NewHedgeService(cli)).Must(b)
	unhedged = testbed.Try(e2ev1.NewHedgeService(cli, dubboretry.WithoutHedging())).Must(b)
	return cli, hedged, unhedged
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
	_, hedged, unhedged := hedgeServices(b)
	ctx := context.Background()
	req := &e2ev1.Request{Id: "bench"}
	for _, svc := range []e2ev1.HedgeService{unhedged, hedged} {
		resp, err := svc.Read(ctx, req)
		checkAnswer(b, resp, err)
	}
	calls := [2]func() error{
		func() error { _, err := unhedged.Read(ctx, req); return err },
		func() error { _, err := hedged.Read(ctx, req); return err },
	}
	var p pairs
	for n := 0; b.Loop(); n++ {
		if err := p.pair(n, calls); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(100*(p.report(b, "ns/call-unhedged", "ns/call-hedged")-1), "%hedged-vs-unhedged")
}
