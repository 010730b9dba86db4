package policy

import (
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/provider"
)

// Provider processes (package provider) serve the services of register
// (main_test.go) in a mode of provider.Behaviour: "ok", "fail" or
// "flaky:SEED:PCT".

// total returns the attempts of ids over all of counts.
func total(counts []map[string]uint32, ids []string) int {
	n := 0
	for _, c := range counts {
		for _, id := range ids {
			n += int(c[id])
		}
	}
	return n
}

// clientOf returns a client that reaches providers directly.
func clientOf(t *testing.T, providers []*provider.Provider) *client.Client {
	t.Helper()
	return try(client.NewClient(client.WithClientURL(provider.URL(providers)))).must(t)
}
