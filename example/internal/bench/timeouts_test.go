package bench

import (
	"context"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"

	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// BenchmarkTimeoutCall is one unary call, echoed by the server, of a method
// with a .proto timeout (TimeoutService.Limited, 300 ms: the filter gives
// the attempt its deadline), of a method without one in the same service
// (TimeoutService.Unlimited: the filter runs and finds no limit, and
// dubbo-go applies its own), and of the same method in a service whose
// .proto declares no timeout (NoTimeoutService.Unlimited: no filter), by
// its stub and as the bare client.Connection.CallUnary. Compare with
//
//	benchstat -col /method results.txt
func BenchmarkTimeoutCall(b *testing.B) {
	cli := newClient(b)
	timeouts, err := e2ev1.NewTimeoutService(cli)
	if err != nil {
		b.Fatal(err)
	}
	none, err := e2ev1.NewNoTimeoutService(cli)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := cli.DialWithInfo(e2ev1.NoTimeoutServiceName, &e2ev1.NoTimeoutService_ClientInfo)
	if err != nil {
		b.Fatal(err)
	}
	bare := func(ctx context.Context, req *e2ev1.SlowRequest, opts ...client.CallOption) (*e2ev1.SlowResponse, error) {
		resp := new(e2ev1.SlowResponse)
		if err := conn.CallUnary(ctx, []any{req}, resp, "Unlimited", opts...); err != nil {
			return nil, err
		}
		return resp, nil
	}
	ctx := context.Background()
	req := &e2ev1.SlowRequest{Id: "bench"}
	for _, tc := range []struct {
		name string
		call func(context.Context, *e2ev1.SlowRequest, ...client.CallOption) (*e2ev1.SlowResponse, error)
	}{
		{"TimeoutService.Limited", timeouts.Limited},
		{"TimeoutService.Unlimited", timeouts.Unlimited},
		{"NoTimeoutService.Unlimited", none.Unlimited},
		{"NoTimeoutService.Unlimited.bare", bare},
	} {
		b.Run("method="+tc.name, func(b *testing.B) {
			// The first call opens the connection.
			if resp, err := tc.call(ctx, req); err != nil || resp.GetId() != "bench" {
				b.Fatalf("the server answered %v, %v; want the request's id", resp, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.call(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
