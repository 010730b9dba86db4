package dubboretry

import (
	"context"
	"runtime"
	"testing"
	"time"

	_ "dubbo.apache.org/dubbo-go/v3/cluster/cluster/failover"
	"dubbo.apache.org/dubbo-go/v3/cluster/directory/static"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/common/extension"
	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/invocation"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
)

// thirtyTwo sets the parallelism of b so that RunParallel runs 32
// goroutines whatever -cpu is.
func thirtyTwo(b *testing.B) { b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0))) }

// BenchmarkBudget is the budget under contention: 32 goroutines share one
// budget, with a real clock. deposit is what every call pays (its first
// attempt); withdraw is what a retry pays. Run with -cpu 1,2,4.
func BenchmarkBudget(b *testing.B) {
	b.Run("op=deposit", func(b *testing.B) {
		bg := newBudget(Budget{Ratio: 0.1, MinRetriesPerSecond: 10}, time.Now)
		thirtyTwo(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bg.deposit()
			}
		})
	})
	b.Run("op=deposit+withdraw", func(b *testing.B) {
		bg := newBudget(Budget{Ratio: 0.5, MinRetriesPerSecond: 10}, time.Now)
		thirtyTwo(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				bg.deposit()
				bg.withdraw()
			}
		})
	})
}

// BenchmarkClusterInvoke is the cluster alone, on providers that answer at
// once: dubbo-go's failover cluster (cluster=failover) and this package's
// with a policy of retry_on, backoff and budget (cluster=dubboretry), each
// joined as dubbo-go joins them, over the same directory. A successful call
// makes no retry: this is what the policy adds to every call.
func BenchmarkClusterInvoke(b *testing.B) {
	params := paramsOf(b, 3, protoPolicy(&Service{
		Methods: []Method{{Name: "Declared", RetryOn: []triple_protocol.Code{triple_protocol.CodeUnavailable, triple_protocol.CodeDeadlineExceeded}, RetryOnFrom: ProtoMethod,
			Backoff: Backoff{Initial: 10 * time.Millisecond}, BackoffFrom: ProtoMethod}},
		Budget: Budget{Ratio: 0.1, MinRetriesPerSecond: 10}, BudgetFrom: ProtoService,
	}))
	// A budget of its own, not the process's.
	params.Set(constant.InterfaceKey, "bench.ClusterInvoke")
	for _, name := range []string{constant.ClusterKeyFailover, ClusterName} {
		cl, err := extension.GetCluster(name)
		if err != nil {
			b.Fatal(err)
		}
		invokers := []protocolbase.Invoker{
			&provider{url: serviceURL(b, 1, params)}, &provider{url: serviceURL(b, 2, params)},
		}
		inv := cl.Join(static.NewDirectory(invokers))
		ctx := context.Background()
		call := func() error {
			i := invocation.NewRPCInvocationWithOptions(
				invocation.WithMethodName("Declared"),
				invocation.WithAttachments(map[string]any{constant.RetriesKey: ""}),
			)
			i.SetAttribute(constant.CallTypeKey, constant.CallUnary)
			return inv.Invoke(ctx, i).Error()
		}
		b.Run("cluster="+name+"/goroutines=1", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := call(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("cluster="+name+"/goroutines=32", func(b *testing.B) {
			thirtyTwo(b)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
