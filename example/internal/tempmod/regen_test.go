package tempmod

import (
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/golden"
)

// TestExampleIsFresh checks that the committed code in proto/ is what the
// plugins, built from source, generate from greet.proto today.
// go -C example test ./internal/tempmod -run TestExampleIsFresh -update
// rewrites it.
func TestExampleIsFresh(t *testing.T) {
	files, err := Regenerate("../../proto")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("generated %d files, want greet.pb.go and greet.triple.go", len(files))
	}
	golden.Check(t, "../../proto", files)
}
