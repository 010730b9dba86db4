package bench

import (
	"context"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// TestMain makes dubbo-go log fatal errors only (testbed.Main).
func TestMain(m *testing.M) {
	testbed.Main(nil)
	os.Exit(m.Run())
}

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
	layer, err := e2ev1.NewLayerService(cli)
	if err != nil {
		b.Fatal(err)
	}
	plain, err := e2ev1.NewPlainService(cli)
	if err != nil {
		b.Fatal(err)
	}
	layerConn, err := cli.DialWithInfo(e2ev1.LayerServiceName, &e2ev1.LayerService_ClientInfo)
	if err != nil {
		b.Fatal(err)
	}
	plainConn, err := cli.DialWithInfo(e2ev1.PlainServiceName, &e2ev1.PlainService_ClientInfo)
	if err != nil {
		b.Fatal(err)
	}
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
		bare := func(ctx context.Context, req *e2ev1.Request, opts ...client.CallOption) (*e2ev1.Response, error) {
			resp := new(e2ev1.Response)
			if err := tc.conn.CallUnary(ctx, []any{req}, resp, tc.method, opts...); err != nil {
				return nil, err
			}
			return resp, nil
		}
		for _, via := range []struct {
			name string
			call call
		}{{"stub", tc.stub}, {"bare", bare}} {
			b.Run("service="+tc.service+"/method="+tc.method+"/via="+via.name, func(b *testing.B) {
				// The first call opens the connection.
				resp, err := via.call(ctx, req)
				check(b, resp, err)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := via.call(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
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
	cli, err := client.NewClient(client.WithClientURL("tri://" + closedPort(b)))
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		new  func() error
	}{
		{"LayerService", func() error { _, err := e2ev1.NewLayerService(cli); return err }},
		{"PlainService", func() error { _, err := e2ev1.NewPlainService(cli); return err }},
		{"bare", func() error {
			_, err := cli.DialWithInfo(e2ev1.LayerServiceName, &e2ev1.LayerService_ClientInfo)
			return err
		}},
	} {
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

func check(b *testing.B, resp *e2ev1.Response, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	if resp.GetId() != "bench" {
		b.Fatalf("the server answered %v, want the request's id", resp)
	}
}

// newClient returns a client of the benchmarks' server, which it starts
// the first time.
func newClient(b *testing.B) *client.Client {
	b.Helper()
	addr, err := serve()
	if err != nil {
		b.Fatal(err)
	}
	cli, err := client.NewClient(client.WithClientURL("tri://" + addr))
	if err != nil {
		b.Fatal(err)
	}
	return cli
}

// benchServer is the Triple server of the benchmarks, started once for the
// process (a process can export a service only once) and left running
// until it exits. Its handlers (the zero testbed.Handler) answer every call
// at once, and log nothing.
var benchServer struct {
	once sync.Once
	addr string
	err  error
}

func serve() (string, error) {
	benchServer.once.Do(func() {
		benchServer.addr, _, benchServer.err = testbed.Serve(func(srv *server.Server) error {
			return testbed.Register(srv, testbed.Handler{},
				"LayerService", "PlainService", "TimeoutService", "NoTimeoutService", "FullPolicyService", "HedgeService")
		})
	})
	return benchServer.addr, benchServer.err
}

// closedPort returns a loopback address where nothing listens.
func closedPort(b *testing.B) string {
	b.Helper()
	port, err := testbed.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	return net.JoinHostPort(testbed.Loopback, strconv.Itoa(port))
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
	cli, err := client.NewClient(client.WithClientURL("tri://" + closedPort(b)))
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		new  func() error
		info *client.ClientInfo
	}{
		{"LayerService", func() error { _, err := e2ev1.NewLayerService(cli); return err }, &e2ev1.LayerService_ClientInfo},
		{"PlainService", func() error { _, err := e2ev1.NewPlainService(cli); return err }, &e2ev1.PlainService_ClientInfo},
	} {
		bare := func() error {
			_, err := cli.DialWithInfo(tc.info.InterfaceName, tc.info)
			return err
		}
		b.Run("new="+tc.name, func(b *testing.B) {
			var spent [2]time.Duration
			var ratios []float64
			n := 0
			for b.Loop() {
				var took [2]time.Duration
				for k := range 2 {
					i := k ^ n&1
					f := bare
					if i == 1 {
						f = tc.new
					}
					start := time.Now()
					if err := f(); err != nil {
						b.Fatal(err)
					}
					took[i] = time.Since(start)
				}
				spent[0] += took[0]
				spent[1] += took[1]
				ratios = append(ratios, float64(took[1])/float64(took[0]))
				n++
			}
			slices.Sort(ratios)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(spent[0])/float64(n), "ns/bare")
			b.ReportMetric(float64(spent[1])/float64(n), "ns/new")
			b.ReportMetric(ratios[len(ratios)/2], "new/bare")
		})
	}
}
