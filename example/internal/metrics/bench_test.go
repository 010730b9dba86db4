package metrics

import (
	"context"
	"errors"
	"net/url"
	"sync/atomic"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/cluster/directory/static"
	"dubbo.apache.org/dubbo-go/v3/common"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/common/extension"
	"dubbo.apache.org/dubbo-go/v3/global"
	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/invocation"
	dubboresult "dubbo.apache.org/dubbo-go/v3/protocol/result"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// What the metrics cost a call with OpenTelemetry's SDK installed (a
// ManualReader, which the benchmark never reads: the cost of recording),
// against a no-op MeterProvider (what a process that sets none pays;
// dubboretry's BenchmarkClusterMetrics compares that with no metrics):
//
//   - BenchmarkMetricsCluster: the cluster alone, joined as dubbo-go joins
//     it, over a provider that answers at once (result=ok) or fails the
//     first attempt with UNAVAILABLE and answers the retry (result=retry);
//   - BenchmarkMetricsTriple: a call of a generated client on the test
//     process's Triple server, on loopback.

// providers returns the MeterProviders the benchmarks compare.
func providers(b *testing.B) map[string]client.ReferenceOption {
	sdk := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { sdk.Shutdown(context.Background()) })
	return map[string]client.ReferenceOption{
		"noop": dubboretry.WithMeterProvider(noop.NewMeterProvider()),
		"sdk":  dubboretry.WithMeterProvider(sdk),
	}
}

// fakeProvider is a provider invoker that fails the odd attempts with err,
// if set, and answers the others at once.
type fakeProvider struct {
	url *common.URL
	err error
	n   atomic.Int64
}

func (p *fakeProvider) GetURL() *common.URL { return p.url }
func (p *fakeProvider) IsAvailable() bool   { return true }
func (p *fakeProvider) Destroy()            {}
func (p *fakeProvider) Invoke(context.Context, protocolbase.Invocation) dubboresult.Result {
	if p.err != nil && p.n.Add(1)%2 == 1 {
		return &dubboresult.RPCResult{Err: p.err}
	}
	return &dubboresult.RPCResult{}
}

func BenchmarkMetricsCluster(b *testing.B) {
	cl, err := extension.GetCluster(dubboretry.ClusterName)
	if err != nil {
		b.Fatal(err)
	}
	for _, res := range []string{"ok", "retry"} {
		for _, mode := range []string{"noop", "sdk"} {
			b.Run("result="+res+"/metrics="+mode, func(b *testing.B) {
				o := &client.ReferenceOptions{Reference: &global.ReferenceConfig{Cluster: constant.ClusterKeyFailover}}
				for _, opt := range []client.ReferenceOption{dubboretry.WithRetryOn(triple_protocol.CodeUnavailable), providers(b)[mode]} {
					opt(o)
				}
				q := url.Values{constant.InterfaceKey: {"bench.Metrics"}, constant.ClusterKey: {o.Reference.Cluster}, constant.RetriesKey: {"3"}}
				for k, v := range o.Reference.Params {
					q.Set(k, v)
				}
				u, err := common.NewURL("tri://127.0.0.1:20000/bench.Metrics?" + q.Encode())
				if err != nil {
					b.Fatal(err)
				}
				u.Methods = []string{"Declared"}
				p := &fakeProvider{url: u}
				if res == "retry" {
					p.err = triple_protocol.NewError(triple_protocol.CodeUnavailable, errors.New("fails"))
				}
				inv := cl.Join(static.NewDirectory([]protocolbase.Invoker{p}))
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					i := invocation.NewRPCInvocationWithOptions(invocation.WithMethodName("Declared"))
					i.SetAttribute(constant.CallTypeKey, constant.CallUnary)
					if err := inv.Invoke(ctx, i).Error(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkMetricsTriple(b *testing.B) {
	cli := testbed.Client(b)
	for _, mode := range []string{"noop", "sdk"} {
		b.Run("metrics="+mode, func(b *testing.B) {
			svc := testbed.Try(e2ev1.NewRetryOnService(cli, providers(b)[mode])).Must(b)
			req := &e2ev1.Request{Id: b.Name()}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.Declared(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
