package gen

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// importName names an import as protogen does, for the first import of a
// file with that last element.
func TestImportName(t *testing.T) {
	gen, err := protogen.Options{}.New(&pluginpb.CodeGeneratorRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"example.com/Greet", "example.com/greet/v1", "example.com/a.b-c", "example.com/type", "example.com/1x",
		"example.com/Ünï", "example.com/_x", "example.com/x y", "Greet", "example.com/a/",
	} {
		g := gen.NewGeneratedFile("x.go", "example.com/self")
		id := protogen.GoImportPath(path).Ident("T")
		want, _, _ := strings.Cut(g.QualifiedGoIdent(id), ".")
		if got := importName(id.GoImportPath); got != want {
			t.Errorf("importName(%q) = %q, protogen names it %q", path, got, want)
		}
	}
}

// collisionsOf compiles files (name: source) and returns what collisions
// reports for them, as Generate would.
func collisionsOf(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	req, err := protoc.Request([]string{dir}, names, "")
	if err != nil {
		t.Fatal(err)
	}
	plugin, err := protogen.Options{}.New(req)
	if err != nil {
		t.Fatal(err)
	}
	var models []*file
	for _, f := range plugin.Files {
		if m, _ := analyze(f, Config{MaxRetries: DefaultMaxRetries}); f.Generate && len(m.services) > 0 {
			models = append(models, m)
		}
	}
	errs := collisions(plugin, models)
	errs.sort()
	return errs.Error()
}

func TestCollisions(t *testing.T) {
	const header = "syntax = \"proto3\";\npackage pkg;\noption go_package = \"example.com/pkg\";\n\nmessage M {}\n\n"
	for _, tc := range []struct {
		src, want string
	}{
		{
			header + "service A { rpc Get(M) returns (M); }\n\nservice AImpl { rpc Get(M) returns (M); }\n",
			"a.proto:9:1: pkg.AImpl: its client interface AImpl is also the client implementation of service pkg.A (a.proto:7:1); rename one of them",
		},
		{
			// Each pair once: AImpl meets A, and AImplImpl meets AImpl.
			header + "service A {}\nservice AImpl {}\nservice AImplImpl {}\n",
			"a.proto:8:1: pkg.AImpl: its client interface AImpl is also the client implementation of service pkg.A (a.proto:7:1); rename one of them\n" +
				"a.proto:9:1: pkg.AImplImpl: its client interface AImplImpl is also the client implementation of service pkg.AImpl (a.proto:8:1); rename one of them",
		},
		{
			// The handler of one service, the registration of another.
			header + "service X {}\nservice RegisterX {}\nservice SetProviderX {}\n",
			"a.proto:8:1: pkg.RegisterX: its handler interface RegisterXHandler is also the handler registration function of service pkg.X (a.proto:7:1); rename one of them\n" +
				"a.proto:9:1: pkg.SetProviderX: its client interface SetProviderX is also the provider registration function of service pkg.X (a.proto:7:1); rename one of them",
		},
		{
			// Streams of a streaming method only; the procedure of any.
			header + "service S { rpc A(stream M) returns (M); rpc B(M) returns (M); }\nmessage S_AClient {}\nmessage S_BClient {}\nmessage SBProcedure {}\n",
			"a.proto:8:1: pkg.S_AClient: its Go type S_AClient is also the client stream interface of method pkg.S.A (a.proto:7:13); rename one of them\n" +
				"a.proto:10:1: pkg.SBProcedure: its Go type SBProcedure is also the procedure constant of method pkg.S.B (a.proto:7:42); rename one of them",
		},
		{
			// Names of the .pb.go that the generated code cannot reach.
			header + "enum E { E_ZERO = 0; }\nmessage N { oneof o { string f = 1; } }\nservice S {}\n",
			"",
		},
	} {
		if got := collisionsOf(t, map[string]string{"a.proto": tc.src}); got != tc.want {
			t.Errorf("%s\ngot:\n%s\nwant:\n%s", tc.src, got, tc.want)
		}
	}
}

// Every name of names.go is gathered: a name added there needs a line in
// collector.triple.
func TestCollisionsGatherEveryName(t *testing.T) {
	dir := t.TempDir()
	src := "syntax = \"proto3\";\npackage pkg;\noption go_package = \"example.com/pkg\";\nmessage M {}\n" +
		"service S { rpc U(M) returns (M); rpc B(stream M) returns (stream M); }\n"
	if err := os.WriteFile(filepath.Join(dir, "a.proto"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	req, err := protoc.Request([]string{dir}, []string{"a.proto"}, "")
	if err != nil {
		t.Fatal(err)
	}
	plugin, err := protogen.Options{}.New(req)
	if err != nil {
		t.Fatal(err)
	}
	f := plugin.FilesByPath["a.proto"]
	m, _ := analyze(f, Config{MaxRetries: DefaultMaxRetries})
	c := &collector{plugin: plugin, imported: make(map[importKey]bool), importNames: make(map[protogen.GoImportPath]string)}
	c.triple(f, m.services)
	gathered := make(map[string]bool)
	for _, n := range c.names {
		gathered[n.key.name] = true
	}
	check := func(names any) {
		v := reflect.ValueOf(names)
		if v.Kind() == reflect.String {
			if !gathered[v.String()] {
				t.Errorf("%s is not gathered", v.String())
			}
			return
		}
		for i := range v.NumField() {
			if name := v.Field(i).String(); !gathered[name] {
				t.Errorf("%s.%s (%s) is not gathered", v.Type().Name(), v.Type().Field(i).Name, name)
			}
		}
	}
	check(m.services[0].names)
	// A unary method declares no stream types.
	check(m.services[0].methods[1].names)
	check(m.services[0].methods[0].names.Procedure)
}
