package bench

import (
	"context"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// BenchmarkCall is one unary call, echoed by the server: through the
// generated stub (via=stub), and as the bare client.Connection.CallUnary
// that the stub's method body is (via=bare), on a connection dialed with the
// same ClientInfo and no options. LayerService.Declared has a .proto default
// (3 retries), which NewLayerService puts in the service's config;
// LayerService.Undeclared has none; PlainService declares nothing, so
// NewPlainService only gives the service its own copy of the client's
// reference config. The stub should cost what the bare call costs: +0
// allocs/op, ns/op within noise. Compare with
//
//	benchstat -col /via results.txt
func BenchmarkCall(b *testing.B) {
	cli := newClient(b)
	layer := testbed.Try(e2ev1.NewLayerService(cli)).Must(b)
	plain := testbed.Try(e2ev1.NewPlainService(cli)).Must(b)
	layerConn := testbed.Try(cli.DialWithInfo(e2ev1.LayerServiceName, &e2ev1.LayerService_ClientInfo)).Must(b)
	plainConn := testbed.Try(cli.DialWithInfo(e2ev1.PlainServiceName, &e2ev1.PlainService_ClientInfo)).Must(b)
	ctx := context.Background()
	req := &e2ev1.Request{Id: "bench"}
	type call func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)
	for _, tc := range []struct {
		service, method string
		stub            call
		conn            *client.Connection
	}{
		{"LayerService", "Declared", layer.Declared, layerConn},
		{"LayerService", "Undeclared", layer.Undeclared, layerConn},
		{"PlainService", "Declared", plain.Declared, plainConn},
	} {
		for _, via := range []struct {
			name string
			call call
		}{{"stub", tc.stub}, {"bare", bare[e2ev1.Request, e2ev1.Response](tc.conn, tc.method)}} {
			benchCall(b, "service="+tc.service+"/method="+tc.method+"/via="+via.name, func() (*e2ev1.Response, error) {
				return via.call(ctx, req)
			})
		}
	}
}

// A constructor is what BenchmarkNewService and BenchmarkNewServicePaired
// create: a service, by its generated constructor (new), and by the bare
// cli.DialWithInfo of the same ClientInfo that the constructor wraps.
type constructor struct {
	name      string
	new, bare func() error
}

// constructors are the constructors of LayerService and PlainService, on
// cli.
func constructors(cli *client.Client) []constructor {
	dial := func(info *client.ClientInfo) func() error {
		return func() error { _, err := cli.DialWithInfo(info.InterfaceName, info); return err }
	}
	return []constructor{
		{"LayerService", func() error { _, err := e2ev1.NewLayerService(cli); return err }, dial(&e2ev1.LayerService_ClientInfo)},
		{"PlainService", func() error { _, err := e2ev1.NewPlainService(cli); return err }, dial(&e2ev1.PlainService_ClientInfo)},
	}
}

// BenchmarkNewService is the cost of creating a service from a client:
// LayerService, whose constructor copies the client's reference config and
// layers its .proto defaults in; PlainService, whose constructor only
// copies the config; and the bare cli.DialWithInfo that both wrap.
//
// The client's URL is a loopback port where nothing listens. For every
// service it creates, dubbo-go starts a health watch over a new HTTP/2
// connection that it never closes: against a live server, creating services
// in a loop would run out of file descriptors. Here the watch fails at
// once. It is the same for all three.
func BenchmarkNewService(b *testing.B) {
	cs := constructors(deadClient(b))
	for _, tc := range append(cs, constructor{name: "bare", new: cs[0].bare}) {
		b.Run("new="+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.new(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNewServicePaired measures BenchmarkNewService's constructors
// against the bare cli.DialWithInfo in one loop, alternating them (bare,
// new, new, bare, ...), the bare one with the same ClientInfo, as
// BenchmarkPolicyCallPaired does calls: creating a
// service starts goroutines and connections whose cost lands on whichever
// creation follows, so a pair shares its conditions. It reports the mean
// time of each (ns/bare, ns/new) and the median over the pairs of their
// ratio (new/bare).
//
//	go -C example test -run '^$' -bench NewServicePaired -count 6 ./internal/bench
func BenchmarkNewServicePaired(b *testing.B) {
	for _, tc := range constructors(deadClient(b)) {
		b.Run("new="+tc.name, func(b *testing.B) {
			var p pairs
			for n := 0; b.Loop(); n++ {
				if err := p.pair(n, [2]func() error{tc.bare, tc.new}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(p.report(b, "ns/bare", "ns/new"), "new/bare")
		})
	}
}
