package corpus

import (
	"flag"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/gen"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// go test ./... -update rewrites the goldens of other packages; this one
// has none, but must accept the flag.
var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")

var wrapped = regexp.MustCompile(`\n\s*// `)

// TestCorpus compiles a small corpus of each kind and generates its
// bindings: it must be valid, deterministic, and give methods defaults from
// every source.
func TestCorpus(t *testing.T) {
	for _, c := range []Config{
		{Files: 3, Services: 4, Methods: 21},
		{Files: 3, Services: 4, Methods: 21, SharedMessages: true},
	} {
		if !slices.Equal(Files(c), Files(c)) {
			t.Fatalf("%+v: two corpora differ", c)
		}
		dir := t.TempDir()
		names, err := Write(dir, c)
		if err != nil {
			t.Fatal(err)
		}
		req, err := protoc.Request([]string{dir}, names, "paths=source_relative")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := protoc.Run(req, protoc.ProtocGenGo); err != nil {
			t.Fatal(err)
		}
		plugin, err := protogen.Options{}.New(req)
		if err != nil {
			t.Fatal(err)
		}
		files, err := gen.Generate(plugin, gen.Config{Version: "test", MaxRetries: gen.DefaultMaxRetries})
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != c.Files {
			t.Errorf("%+v: %d files generated, want %d", c, len(files), c.Files)
		}
		var all strings.Builder
		methods := 0
		for _, f := range files {
			// Doc comments are wrapped: join their lines.
			all.WriteString(wrapped.ReplaceAllString(f.GetContent(), " "))
			methods += strings.Count(f.GetContent(), ".conn.CallUnary(")
		}
		if methods != c.MethodCount() {
			t.Errorf("%+v: %d methods generated, want %d", c, methods, c.MethodCount())
		}
		for _, want := range []string{
			"from its (retry.v1.method) option",
			"from the (retry.v1.service) option",
			"from the (retry.v1.file) option",
			"because the (retry.v1.service) option",
			"because the (retry.v1.file) option",
			"The .proto declares no retry policy for it",
		} {
			if !strings.Contains(all.String(), want) {
				t.Errorf("%+v: no method documented as %q", c, want)
			}
		}
	}
}
