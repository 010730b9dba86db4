package policy

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// The cluster of a service with a policy keeps what failover does, on
// providers in processes of their own: a retry goes to a provider not yet
// tried, client.WithSticky holds, and client.WithCallRetries sets the
// count.
func TestFailoverKept(t *testing.T) {
	ps := startProviders(t, "fail", "ok", "fail", "ok")
	failA, okA, failB, okB := ps[0], ps[1], ps[2], ps[3]
	policy := dubboretry.Defaults(&dubboretry.ServicePolicy{
		Methods: []dubboretry.MethodPolicy{{
			Name:    "Declared",
			RetryOn: onUnavailable.Methods[0].RetryOn,
			Backoff: &dubboretry.Backoff{Initial: time.Millisecond, Max: 4 * time.Millisecond, Multiplier: 2},
		}},
		Budget: &dubboretry.Budget{Ratio: 1, MinRetriesPerSecond: 1000},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const calls = 200

	t.Run("a retry goes to a provider not yet tried", func(t *testing.T) {
		providers := []*provider{failA, okA, failB}
		layer := try(e2ev1.NewLayerService(clientOf(t, providers), policy)).must(t)
		ids := make([]string, calls)
		for i := range ids {
			ids[i] = fmt.Sprintf("%s#%d", t.Name(), i)
			resp, err := layer.Declared(ctx, &e2ev1.Request{Id: ids[i]})
			if err != nil {
				t.Fatalf("%s: %v; want success, with 3 retries over 3 providers", ids[i], err)
			}
			if resp.Attempts != 1 {
				t.Errorf("%s: the healthy provider answered attempt %d, want its first", ids[i], resp.Attempts)
			}
		}
		seen := counts(t, providers...)
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
		providers := []*provider{failA, failB}
		layer := try(e2ev1.NewLayerService(clientOf(t, providers), policy)).must(t)
		for _, n := range []int{0, 1, 5} {
			id := fmt.Sprintf("%s#%d", t.Name(), n)
			if _, err := layer.Declared(ctx, &e2ev1.Request{Id: id}, client.WithCallRetries(n)); err == nil {
				t.Fatalf("%s: succeeded on failing providers", id)
			}
			if got := total(counts(t, providers...), []string{id}); got != n+1 {
				t.Errorf("WithCallRetries(%d): %d attempts, want %d", n, got, n+1)
			}
		}
	})

	t.Run("WithSticky holds", func(t *testing.T) {
		providers := []*provider{okA, okB}
		layer := try(e2ev1.NewLayerService(clientOf(t, providers), client.WithSticky(), policy)).must(t)
		for _, method := range []struct {
			name string
			call unary
		}{{"Declared", layer.Declared}, {"Undeclared", layer.Undeclared}} {
			ids := make([]string, 40)
			for i := range ids {
				ids[i] = fmt.Sprintf("%s/%s#%d", t.Name(), method.name, i)
				if _, err := method.call(ctx, &e2ev1.Request{Id: ids[i]}); err != nil {
					t.Fatalf("%s: %v", ids[i], err)
				}
			}
			seen := counts(t, providers...)
			first, second := total(seen[:1], ids), total(seen[1:], ids)
			if first != len(ids) && second != len(ids) {
				t.Errorf("%s with WithSticky: %d calls on one provider and %d on the other, want all on one", method.name, first, second)
			}
		}
	})
}
