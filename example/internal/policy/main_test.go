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
// of one service run them as processes of their own (package provider; a
// process can export a service only once): see providers_test.go.
package policy

import (
	"context"
	"errors"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"
	"github.com/dubbogo/gost/log/logger"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/handlers"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/provider"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testserver"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// seen records, by request id, when the test process's server saw each
// attempt.
var seen = handlers.NewLog()

func TestMain(m *testing.M) {
	// dubbo-go's clusters, ours included, log every failed call; the tests
	// fail calls on purpose by the thousand.
	logger.SetLoggerLevel("fatal")
	provider.Main(register)
	testserver.Run(m, func(srv *server.Server) error {
		return register(srv, handlers.Unary{Log: seen, Behaviour: handlers.ByRequest})
	})
}

// id returns a request id no other call of the process uses, that asks
// the test process's server to fail with code (handlers.ByRequest).
func id(t testing.TB, code triple_protocol.Code) string {
	return handlers.WithCode(handlers.NewID(t.Name()), code)
}

// register adds the services of e2e/v1 that the tests call to srv, each
// served by u.
func register(srv *server.Server, u handlers.Unary) error {
	return errors.Join(
		e2ev1.RegisterLayerServiceHandler(srv, &handlers.LayerServer{Unary: u}),
		e2ev1.RegisterPlainServiceHandler(srv, &handlers.PlainServer{Unary: u}),
		e2ev1.RegisterRetryOnServiceHandler(srv, &handlers.RetryOnServer{Unary: u}),
		e2ev1.RegisterBackoffServiceHandler(srv, &handlers.BackoffServer{Unary: u}),
		e2ev1.RegisterBudgetServiceHandler(srv, &handlers.BudgetServer{Unary: u}),
		e2ev1.RegisterSpareBudgetServiceHandler(srv, &handlers.SpareBudgetServer{Unary: u}),
		e2ev1.RegisterLooseBudgetServiceHandler(srv, &handlers.LooseBudgetServer{Unary: u}),
		e2ev1.RegisterFullPolicyServiceHandler(srv, &handlers.FullPolicyServer{Unary: u}),
		e2ev1.RegisterHedgeServiceHandler(srv, &handlers.HedgeServer{Unary: u}),
	)
}

// try(f()).must(t) is the result of f, or the end of the test if f fails.
func try[T any](v T, err error) result[T] { return result[T]{v, err} }

type result[T any] struct {
	v   T
	err error
}

func (r result[T]) must(t testing.TB) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// unary is a unary method of a generated client.
type unary func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)
