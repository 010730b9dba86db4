package bench

import (
	"context"
	"math"
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
)

// TestMain makes dubbo-go log fatal errors only (testbed.Main).
func TestMain(m *testing.M) {
	testbed.Main(nil)
	os.Exit(m.Run())
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

// newClient returns a client of the benchmarks' server, which it starts
// the first time.
func newClient(b *testing.B) *client.Client {
	b.Helper()
	benchServer.once.Do(func() {
		benchServer.addr, _, benchServer.err = testbed.Serve(func(srv *server.Server) error {
			return testbed.Register(srv, testbed.Handler{},
				"LayerService", "PlainService", "TimeoutService", "NoTimeoutService", "FullPolicyService", "HedgeService")
		})
	})
	if benchServer.err != nil {
		b.Fatal(benchServer.err)
	}
	return testbed.Try(client.NewClient(client.WithClientURL("tri://" + benchServer.addr))).Must(b)
}

// deadClient returns a client whose URL is a loopback port where nothing
// listens.
func deadClient(b *testing.B) *client.Client {
	b.Helper()
	port := testbed.Try(testbed.FreePort()).Must(b)
	return testbed.Try(client.NewClient(client.WithClientURL("tri://" + net.JoinHostPort(testbed.Loopback, strconv.Itoa(port))))).Must(b)
}

// bare is method called as a protoc-gen-go-triple stub calls it: the bare
// client.Connection.CallUnary on conn.
func bare[Req, Resp any](conn *client.Connection, method string) func(context.Context, *Req, ...client.CallOption) (*Resp, error) {
	return func(ctx context.Context, req *Req, opts ...client.CallOption) (*Resp, error) {
		resp := new(Resp)
		if err := conn.CallUnary(ctx, []any{req}, resp, method, opts...); err != nil {
			return nil, err
		}
		return resp, nil
	}
}

// response is a response of e2e/v1.
type response interface{ GetId() string }

// checkAnswer ends the benchmark unless resp answers the request the
// benchmarks make, whose id is "bench".
func checkAnswer(b *testing.B, resp response, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	if resp.GetId() != "bench" {
		b.Fatalf("the server answered %v, want the request's id", resp)
	}
}

// benchCall benchmarks call, under name. Its first call opens the
// connection.
func benchCall[Resp response](b *testing.B, name string, call func() (Resp, error)) {
	b.Run(name, func(b *testing.B) {
		resp, err := call()
		checkAnswer(b, resp, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := call(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// pairs records two calls made back to back, pair after pair: a host busy
// with other work makes the time of a call vary far more than what the
// paired benchmarks measure, and two calls made back to back share the
// same conditions.
type pairs struct {
	spent  [2]time.Duration
	ratios []float64 // log(the second's time / the first's), per pair
}

// pair makes calls[0] and calls[1], the second first when n is odd, and
// records their times. Timing each call adds the same two clock readings
// to both.
func (p *pairs) pair(n int, calls [2]func() error) error {
	var took [2]time.Duration
	for k := range 2 {
		i := k ^ n&1
		start := time.Now()
		if err := calls[i](); err != nil {
			return err
		}
		took[i] = time.Since(start)
	}
	p.spent[0] += took[0]
	p.spent[1] += took[1]
	p.ratios = append(p.ratios, math.Log(float64(took[1])/float64(took[0])))
	return nil
}

// add adds the pairs of q to p.
func (p *pairs) add(q pairs) {
	p.spent[0] += q.spent[0]
	p.spent[1] += q.spent[1]
	p.ratios = append(p.ratios, q.ratios...)
}

// report reports the mean time of each call, in the units named, and
// returns the median over the pairs of the ratio of the second's time to
// the first's: a stall that hits both calls of a pair cancels out, and one
// that hits one call moves the median no more than any other pair.
func (p *pairs) report(b *testing.B, first, second string) float64 {
	n := float64(len(p.ratios))
	slices.Sort(p.ratios)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(p.spent[0])/n, first)
	b.ReportMetric(float64(p.spent[1])/n, second)
	return math.Exp(p.ratios[len(p.ratios)/2])
}
