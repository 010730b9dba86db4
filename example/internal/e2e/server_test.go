package e2e

import (
	"errors"
	"testing"

	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/server"
	"github.com/dubbogo/gost/log/logger"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/handlers"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testserver"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// attempts records, by request id, the attempts the server has seen.
var attempts = handlers.NewLog()

// TestMain runs the tests with a Triple server (package testserver) of
// every service of e2e/v1 but those of policy.proto (package policy tests
// them): a process can export a service only once. A unary call fails as
// its request asks (handlers.ByRequest).
func TestMain(m *testing.M) {
	// The failover cluster logs every failed call; the tests fail on
	// purpose thousands of times.
	logger.SetLoggerLevel("fatal")
	unary := handlers.Unary{Log: attempts, Behaviour: handlers.ByRequest}
	slow := handlers.Slow{Log: attempts}
	testserver.Run(m, func(srv *server.Server) error {
		return errors.Join(
			e2ev1.RegisterLayerServiceHandler(srv, &handlers.LayerServer{Unary: unary}),
			e2ev1.RegisterPlainServiceHandler(srv, &handlers.PlainServer{Unary: unary}),
			e2ev1.RegisterGuardedServiceHandler(srv, &handlers.GuardedServer{Unary: unary}),
			e2ev1.RegisterFileDefaultServiceHandler(srv, &handlers.FileDefaultServer{Unary: unary}),
			e2ev1.RegisterTimeoutServiceHandler(srv, &handlers.TimeoutServer{Slow: slow}),
			e2ev1.RegisterServiceTimeoutServiceHandler(srv, &handlers.ServiceTimeoutServer{Slow: slow}),
			e2ev1.RegisterNoTimeoutServiceHandler(srv, &handlers.NoTimeoutServer{Slow: slow}),
		)
	})
}

// newID returns a request id no other call uses.
func newID(t testing.TB) string { return handlers.NewID(t.Name()) }
