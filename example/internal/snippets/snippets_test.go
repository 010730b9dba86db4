package snippets

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"
	"github.com/google/go-cmp/cmp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

var update = flag.Bool("update", false, "rewrite testdata/policy.txt")

var handler = &greetserver.GreetTripleServer{}

func TestMain(m *testing.M) {
	flag.Parse()
	testbed.RunTests(m, func(srv *server.Server) error {
		return greet.RegisterGreetServiceHandler(srv, handler)
	})
}

// The options of docs/policies.md's "Overriding the .proto" do what the
// page says: client.WithRetries(2) beats GreetRetry's 3 retries, so a call
// that needs a fourth attempt fails after three; and the effective policy
// they give, which the page shows (testdata/policy.txt), is the one
// printPolicy prints.
func TestOverrideProto(t *testing.T) {
	svc, err := overrideProto(testbed.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = svc.GreetRetry(ctx, &greet.GreetRequest{Name: t.Name()})
	if code := triple_protocol.CodeOf(err); code != triple_protocol.CodeUnavailable {
		t.Errorf("GreetRetry: %v, want UNAVAILABLE after its 2 retries", err)
	}
	if got := handler.Attempts(t.Name()); got != 3 {
		t.Errorf("GreetRetry made %d attempts, want 3: client.WithRetries(2) beats the .proto's 3 retries", got)
	}

	var out bytes.Buffer
	printPolicy(&out, svc)
	golden := filepath.Join("testdata", "policy.txt")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("the effective policy differs from %s (-want +got; -update rewrites it):\n%s", golden, diff)
	}
}

// unavailable wraps its error in a Triple error with UNAVAILABLE, which
// dubbo-go retries; a plain error is a business error, which it never does.
func TestUnavailable(t *testing.T) {
	cause := errors.New("down")
	_, err := unavailable(cause)
	if triple_protocol.CodeOf(err) != triple_protocol.CodeUnavailable || !errors.Is(err, cause) {
		t.Errorf("unavailable(%v) = %v, want UNAVAILABLE wrapping it", cause, err)
	}
}

// withMetrics's service records its calls with the provider it is given:
// a call of GreetRetry that the server fails greetserver.Failures times is
// that many retries, and one more attempt.
func TestWithMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	svc, err := withMetrics(testbed.Client(t), sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := svc.GreetRetry(ctx, &greet.GreetRequest{Name: t.Name()}); err != nil {
		t.Fatalf("GreetRetry: %v, want its 3 retries to reach the answer", err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	var attempts, retries int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				if m.Name == "dubboretry.client.attempt.started" {
					for _, p := range data.DataPoints {
						attempts += p.Value
					}
				}
			case metricdata.Histogram[int64]:
				if m.Name == "dubboretry.client.call.retries" {
					for _, p := range data.DataPoints {
						retries += p.Sum
					}
				}
			}
		}
	}
	if attempts != greetserver.Failures+1 || retries != greetserver.Failures {
		t.Errorf("recorded %d attempts and %d retries, want %d and %d, as the server saw",
			attempts, retries, greetserver.Failures+1, greetserver.Failures)
	}
	if got := handler.Attempts(t.Name()); got != greetserver.Failures+1 {
		t.Errorf("the server saw %d attempts, want %d", got, greetserver.Failures+1)
	}
}
