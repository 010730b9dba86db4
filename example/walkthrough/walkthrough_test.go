package walkthrough

import (
	"context"
	"strings"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/server"
	"github.com/dubbogo/gost/log/logger"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/loopback"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

// TestWalkthrough runs the demo's calls on a real server: each layer must
// give the attempts and the outcome the precedence table says.
func TestWalkthrough(t *testing.T) {
	logger.SetLoggerLevel("fatal")
	handler := &greetserver.GreetTripleServer{}
	addr, stop, err := loopback.Serve(func(srv *server.Server) error {
		return greet.RegisterGreetServiceHandler(srv, handler)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	results, err := Run(context.Background(), addr, handler.Attempts)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(Steps) {
		t.Fatalf("%d results for %d steps", len(results), len(Steps))
	}
	var table strings.Builder
	if err := Print(&table, results); err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if !r.OK() {
			t.Errorf("layer %s (%s): %d attempts, error %v; want %d attempts, success %v",
				r.Layer, r.SetBy, r.Attempts, r.Err, r.WantAttempts, r.WantOK)
		}
	}
	if t.Failed() || strings.Contains(table.String(), "UNEXPECTED") {
		t.Logf("the demo prints:\n%s", table.String())
	}
}
