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

	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testserver"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

var update = flag.Bool("update", false, "rewrite testdata/policy.txt")

var handler = &greetserver.GreetTripleServer{}

func TestMain(m *testing.M) {
	flag.Parse()
	testserver.Run(m, func(srv *server.Server) error {
		return greet.RegisterGreetServiceHandler(srv, handler)
	})
}

// The options of docs/policies.md's "Overriding the .proto" do what the
// page says: client.WithRetries(2) beats GreetRetry's 3 retries, so a call
// that needs a fourth attempt fails after three; and the effective policy
// they give, which the page shows (testdata/policy.txt), is the one
// printPolicy prints.
func TestOverrideProto(t *testing.T) {
	svc, err := overrideProto(testserver.Client(t))
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
