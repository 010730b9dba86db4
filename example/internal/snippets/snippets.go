// Package snippets holds the Go that the documentation shows in fragments
// (docs/*.md marks each with <!-- region: PATH -->): each fragment is here
// whole, in a function that builds, and snippets_test.go runs those that
// can run on a loopback server.
package snippets

import (
	"fmt"
	"io"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"go.opentelemetry.io/otel/metric"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

// overrideProto creates GreetService with options of each kind at layer 3
// (docs/policies.md, "Overriding the .proto").
func overrideProto(cli *client.Client) (greet.GreetService, error) {
	svc, err := greet.NewGreetService(cli,
		client.WithRetries(2),
		dubboretry.WithRetryOn(triple_protocol.CodeUnavailable, triple_protocol.CodeAborted), // every method
		dubboretry.WithMethodRetryOn("GreetRetry", triple_protocol.CodeUnavailable),          // one method, over the line above
		dubboretry.WithMethodBackoff("GreetRetry", 10*time.Millisecond, 500*time.Millisecond, 2),
		dubboretry.WithBudget(0.2, 5),
	)
	return svc, err
}

// printPolicy prints the effective policy of a service
// (docs/policies.md, "The effective policy").
func printPolicy(w io.Writer, svc greet.GreetService) {
	fmt.Fprint(w, dubboretry.PolicyOf(svc))
}

// unavailable is the error of a handler whose failure is worth retrying
// (docs/policies.md, "What is retried").
func unavailable(err error) (*greet.GreetResponse, error) {
	return nil, triple_protocol.NewError(triple_protocol.CodeUnavailable, err)
}

// withMetrics creates GreetService with the metrics of its calls recorded
// by provider instead of the global MeterProvider (docs/policies.md,
// "Metrics and logs").
func withMetrics(cli *client.Client, provider metric.MeterProvider) (greet.GreetService, error) {
	return greet.NewGreetService(cli, dubboretry.WithMeterProvider(provider))
}
