// Package policy tests the runtime module dubboretry end to end: retry_on,
// backoff, budget and hedging as the .proto declares them
// (testdata/proto/e2e/v1/policy.proto), which the generated NewXxxService
// hands to dubboretry (layer 2), and as callers override them
// (dubboretry.With…, layer 3), on real Triple servers that count the
// attempts they see. Services whose .proto declares no policy
// (LayerService, PlainService) show that they keep dubbo-go's failover, and
// serve as hosts for dubboretry.Defaults given by hand, where the API
// itself is tested.
//
// One server runs in the test process. Tests that need several providers
// of one service run them as processes of their own (testbed.StartProviders;
// a process can export a service only once): see providers_test.go.
package policy

import (
	"context"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// seen records, by request id, when the test process's server saw each
// attempt.
var seen = testbed.NewLog()

// served are the services of e2e/v1 the tests call, which the test
// process's server and the provider processes serve.
var served = append([]string{"LayerService", "PlainService"}, testbed.PolicyServices...)

func TestMain(m *testing.M) {
	testbed.Main(nil)
	testbed.RunTests(m, func(srv *server.Server) error {
		return testbed.Register(srv, testbed.Handler{Log: seen, Behaviour: testbed.ByRequest}, served...)
	})
}

// id returns a request id no other call of the process uses, that asks
// the test process's server to fail with code (testbed.ByRequest).
func id(t testing.TB, code triple_protocol.Code) string {
	return testbed.WithCode(testbed.NewID(t.Name()), code)
}

// unary is a unary method of a generated client.
type unary func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)
