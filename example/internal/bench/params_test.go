package bench

import (
	"context"
	"strconv"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// BenchmarkCallMethodConfigs is the bare call of BenchmarkCall on
// connections configured with 0, 2 and 20 method configs
// (client.WithMethod), as a constructor with that many .proto defaults
// configures its service. dubbo-go turns each into three URL parameters
// (methods.M.retries, .loadbalance, .sticky), and its graceful shutdown
// filter formats the whole URL on every call: every call of the service
// pays for its configuration, however it was given.
func BenchmarkCallMethodConfigs(b *testing.B) {
	cli := newClient(b)
	ctx := context.Background()
	req := &e2ev1.Request{Id: "bench"}
	for _, n := range []int{0, 2, 20} {
		var opts []client.ReferenceOption
		for i := range n {
			opts = append(opts, client.WithMethod(&global.MethodConfig{Name: "M" + strconv.Itoa(i), Retries: "3"}))
		}
		conn := testbed.Try(cli.DialWithInfo(e2ev1.LayerServiceName, &e2ev1.LayerService_ClientInfo, opts...)).Must(b)
		call := bare[e2ev1.Request, e2ev1.Response](conn, "Undeclared")
		benchCall(b, "configs="+strconv.Itoa(n), func() (*e2ev1.Response, error) { return call(ctx, req) })
	}
}
