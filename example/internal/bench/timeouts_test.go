package bench

import (
	"context"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
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
	timeouts := testbed.Try(e2ev1.NewTimeoutService(cli)).Must(b)
	none := testbed.Try(e2ev1.NewNoTimeoutService(cli)).Must(b)
	conn := testbed.Try(cli.DialWithInfo(e2ev1.NoTimeoutServiceName, &e2ev1.NoTimeoutService_ClientInfo)).Must(b)
	ctx := context.Background()
	req := &e2ev1.SlowRequest{Id: "bench"}
	for _, tc := range []struct {
		name string
		call func(context.Context, *e2ev1.SlowRequest, ...client.CallOption) (*e2ev1.SlowResponse, error)
	}{
		{"TimeoutService.Limited", timeouts.Limited},
		{"TimeoutService.Unlimited", timeouts.Unlimited},
		{"NoTimeoutService.Unlimited", none.Unlimited},
		{"NoTimeoutService.Unlimited.bare", bare[e2ev1.SlowRequest, e2ev1.SlowResponse](conn, "Unlimited")},
	} {
		benchCall(b, "method="+tc.name, func() (*e2ev1.SlowResponse, error) { return tc.call(ctx, req) })
	}
}
