package policy

import (
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
)

// startProviders starts a provider process of the services the tests call
// (served, main_test.go) per mode of testbed.Mode: "ok", "fail" or
// "flaky:SEED:PCT".
func startProviders(t *testing.T, modes ...string) []*testbed.Provider {
	t.Helper()
	return testbed.StartProviders(t, served, modes...)
}

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
func clientOf(t *testing.T, providers []*testbed.Provider) *client.Client {
	t.Helper()
	return testbed.Try(client.NewClient(client.WithClientURL(testbed.URL(providers)))).Must(t)
}
