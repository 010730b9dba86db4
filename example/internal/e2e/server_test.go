package e2e

import (
	"slices"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
)

// attempts records, by request id, the attempts the server has seen.
var attempts = testbed.NewLog()

// TestMain runs the tests with a Triple server (testbed.RunTests) of the
// services of e2e/v1 that the layers and the timeouts concern (package
// policy tests those of policy.proto). A unary call fails as its request
// asks (testbed.ByRequest).
func TestMain(m *testing.M) {
	testbed.Main(nil)
	testbed.RunTests(m, func(srv *server.Server) error {
		h := testbed.Handler{Log: attempts, Behaviour: testbed.ByRequest}
		return testbed.Register(srv, h, slices.Concat(testbed.LayerServices, testbed.TimeoutServices)...)
	})
}

// newID returns a request id no other call uses.
func newID(t testing.TB) string { return testbed.NewID(t.Name()) }
