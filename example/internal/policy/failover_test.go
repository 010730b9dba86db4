package policy

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	clusterpkg "dubbo.apache.org/dubbo-go/v3/cluster/cluster"
	"dubbo.apache.org/dubbo-go/v3/cluster/directory"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/common/extension"
	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// The cluster of a service with a policy keeps what failover does, on
// providers in processes of their own: a retry goes to a provider not yet
// tried, client.WithSticky holds, and client.WithCallRetries sets the
// count. FullPolicyService has every part of a policy in its .proto:
// Declared retries UNAVAILABLE 3 times after delays of up to 1, 2 and 4 ms,
// under a budget (ratio 1, 1,000 a second) that does not bind.
func TestFailoverKept(t *testing.T) {
	ps := startProviders(t, "fail", "ok", "fail", "ok")
	failA, okA, failB, okB := ps[0], ps[1], ps[2], ps[3]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const calls = 200

	t.Run("a retry goes to a provider not yet tried", func(t *testing.T) {
		providers := []*testbed.Provider{failA, okA, failB}
		svc := testbed.Try(e2ev1.NewFullPolicyService(clientOf(t, providers))).Must(t)
		ids := make([]string, calls)
		for i := range ids {
			ids[i] = fmt.Sprintf("%s#%d", t.Name(), i)
			resp, err := svc.Declared(ctx, &e2ev1.Request{Id: ids[i]})
			if err != nil {
				t.Fatalf("%s: %v; want success, with 3 retries over 3 providers", ids[i], err)
			}
			if resp.Attempts != 1 {
				t.Errorf("%s: the healthy provider answered attempt %d, want its first", ids[i], resp.Attempts)
			}
		}
		seen := testbed.Counts(t, providers...)
		byFailures := make([]int, 3)
		for _, id := range ids {
			a, h, b := seen[0][id], seen[1][id], seen[2][id]
			if h != 1 || a > 1 || b > 1 {
				t.Errorf("%s: attempts %d, %d, %d on failing, healthy, failing; want at most 1 on each", id, a, h, b)
				continue
			}
			byFailures[a+b]++
		}
		if byFailures[0] == calls {
			t.Errorf("no call of %d reached a failing provider: failover was not exercised", calls)
		}
		t.Logf("%d calls: %v succeeded after 0, 1, 2 failed attempts", calls, byFailures)
	})

	t.Run("WithCallRetries sets the count", func(t *testing.T) {
		providers := []*testbed.Provider{failA, failB}
		// Without the budget, whose gate would close after 5 failed
		// retries in a row: the count is the point here.
		svc := testbed.Try(e2ev1.NewFullPolicyService(clientOf(t, providers), dubboretry.WithoutBudget())).Must(t)
		for _, n := range []int{0, 1, 5} {
			id := fmt.Sprintf("%s#%d", t.Name(), n)
			if _, err := svc.Declared(ctx, &e2ev1.Request{Id: id}, client.WithCallRetries(n)); err == nil {
				t.Fatalf("%s: succeeded on failing providers", id)
			}
			if got := total(testbed.Counts(t, providers...), []string{id}); got != n+1 {
				t.Errorf("WithCallRetries(%d): %d attempts, want %d", n, got, n+1)
			}
		}
	})

	t.Run("WithSticky holds", func(t *testing.T) {
		providers := []*testbed.Provider{okA, okB}
		svc := testbed.Try(e2ev1.NewFullPolicyService(clientOf(t, providers), client.WithSticky())).Must(t)
		for _, method := range []struct {
			name string
			call unary
		}{{"Declared", svc.Declared}, {"Undeclared", svc.Undeclared}} {
			ids := make([]string, 40)
			for i := range ids {
				ids[i] = fmt.Sprintf("%s/%s#%d", t.Name(), method.name, i)
				if _, err := method.call(ctx, &e2ev1.Request{Id: ids[i]}); err != nil {
					t.Fatalf("%s: %v", ids[i], err)
				}
			}
			seen := testbed.Counts(t, providers...)
			first, second := total(seen[:1], ids), total(seen[1:], ids)
			if first != len(ids) && second != len(ids) {
				t.Errorf("%s with WithSticky: %d calls on one provider and %d on the other, want all on one", method.name, first, second)
			}
		}
	})
}

// Every generated service runs on dubboretry's cluster, with a .proto
// policy or without; a reference created as protoc-gen-go-triple's code
// creates it (cli.DialWithInfo) keeps dubbo-go's failover. LayerService
// declares retries only, and so keeps dubbo-go's rule for the rest:
// Declared retries every failure that is not a business error 3 times,
// whatever its code; Undeclared takes dubbo-go's 2 retries; Never none.
// RetryOnService, created beside it from the same client, is the control:
// its .proto retries UNAVAILABLE only.
func TestEveryGeneratedServiceJoinsTheCluster(t *testing.T) {
	joined := spyClusters(t, constant.ClusterKeyFailover, dubboretry.ClusterName)
	cli := testbed.Client(t)
	layer := testbed.Try(e2ev1.NewLayerService(cli)).Must(t)
	withPolicy := testbed.Try(e2ev1.NewRetryOnService(cli)).Must(t)
	testbed.Try(cli.DialWithInfo(e2ev1.PlainServiceName, &e2ev1.PlainService_ClientInfo)).Must(t)
	for _, c := range []struct {
		service string
		want    string
	}{
		{e2ev1.LayerServiceName, dubboretry.ClusterName},
		{e2ev1.RetryOnServiceName, dubboretry.ClusterName},
		{e2ev1.PlainServiceName, constant.ClusterKeyFailover},
	} {
		if got := joined.of(c.service); !slices.Equal(got, []string{c.want}) {
			t.Errorf("%s joined the clusters %q, want [%q]", c.service, got, c.want)
		}
	}

	check(t,
		attempt{"unavailable", layer.Declared, unavailable, 4, nil},
		attempt{"invalid argument", layer.Declared, invalidArgument, 4, nil},
		attempt{"deadline exceeded", layer.Declared, deadlineCode, 4, nil},
		attempt{"internal", layer.Declared, internal, 4, nil},
		attempt{"Undeclared: dubbo-go's 2 retries", layer.Undeclared, invalidArgument, 3, nil},
		attempt{"Never: retries 0 in its .proto", layer.Never, unavailable, 1, nil},
		attempt{"WithCallRetries(1)", layer.Declared, invalidArgument, 2, []client.CallOption{client.WithCallRetries(1)}},
		// The control: RetryOnService's .proto retries UNAVAILABLE only.
		attempt{"RetryOnService: invalid argument", withPolicy.Declared, invalidArgument, 1, nil},
	)
	checkBusiness(t, "LayerService.Declared", layer.Declared)
}

// joins records which clusters the services joined, by interface name.
type joins struct {
	mu sync.Mutex
	by map[string][]string
}

func (j *joins) of(service string) []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.by[service])
}

// spyClusters replaces the clusters names with wrappers that record which
// service joins them, until the test ends, and returns the record. The
// wrappers join the service to the cluster they replace, which then runs
// every call: they change nothing but the record.
func spyClusters(t *testing.T, names ...string) *joins {
	j := &joins{by: make(map[string][]string)}
	for _, name := range names {
		// failover's and dubboretry's clusters are stateless: one instance
		// joins any number of services.
		inner, err := extension.GetCluster(name)
		if err != nil {
			t.Fatal(err)
		}
		extension.SetCluster(name, func() clusterpkg.Cluster { return spy{name, inner, j} })
		t.Cleanup(func() { extension.SetCluster(name, func() clusterpkg.Cluster { return inner }) })
	}
	return j
}

type spy struct {
	name  string
	inner clusterpkg.Cluster
	j     *joins
}

func (s spy) Join(dir directory.Directory) protocolbase.Invoker {
	service := dir.GetURL().Service()
	s.j.mu.Lock()
	s.j.by[service] = append(s.j.by[service], s.name)
	s.j.mu.Unlock()
	return s.inner.Join(dir)
}
