package main

import (
	"go/format"
	"path"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/golden"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

const (
	protoDir  = "../../testdata/proto"
	goldenDir = "../../testdata/golden"
	// goldenModule is the import path that goldenDir stands for: the
	// goldens are packages of this module, compiled and run against
	// dubbo-go by the tests of the example module.
	goldenModule = "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden"
)

// A goldenCase is a request whose output is kept in testdata/golden, as
// protoc would send it for one invocation.
type goldenCase struct {
	name   string
	files  []string
	params []string
}

// request compiles the case's files into its request.
func (tc goldenCase) request(t *testing.T) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	params := strings.Join(append([]string{"module=" + goldenModule}, tc.params...), ",")
	req, err := protoc.Request([]string{protoDir}, tc.files, params)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

var goldenCases = []goldenCase{
	{
		// dubbo-go's own greet.proto, untouched: the generated API must
		// match protoc-gen-go-triple's (TestReferenceAPI).
		name:   "reference",
		files:  []string{"reference/greet.proto"},
		params: []string{"Mreference/greet.proto=" + goldenModule + "/reference;greet"},
	},
	{
		// Every kind of option, every call kind, comments and deprecation.
		name:  "greet",
		files: []string{"greet/greet.proto"},
	},
	{
		// Two services in one file, two files in one Go package.
		name:  "multi",
		files: []string{"multi/first.proto", "multi/second.proto"},
	},
	{
		// A file without services: no .triple.go.
		name:  "messages",
		files: []string{"messages/messages.proto"},
	},
	{
		// Valid protos that are awkward for a generator: names, a file
		// without a package, proto2, editions, well-known types, types from
		// other Go packages (some named like the generated code's variables)
		// and nested types.
		name: "awkward",
		files: []string{
			"awkward/names/names.proto",
			"awkward/nopackage/nopackage.proto",
			"awkward/proto2/proto2.proto",
			"awkward/editions/editions.proto",
			"awkward/wkt/wkt.proto",
			"awkward/types/types.proto",
			"awkward/req/req.proto",
			"awkward/msg/msg.proto",
			"awkward/ctx/ctx.proto",
			"awkward/uses/uses.proto",
			"awkward/comments/comments.proto",
		},
	},
	{
		// The services the end-to-end tests call.
		name:  "e2e",
		files: []string{"e2e/v1/layers.proto", "e2e/v1/file_default.proto", "e2e/v1/timeouts.proto", "e2e/v1/policy.proto", "e2e/v1/faults.proto"},
	},
	{
		// Every field of the retry policy at every level.
		name:  "policy",
		files: []string{"policy/v1/policy.proto"},
	},
	{
		// Providers that publish their .proto defaults.
		name:   "publish",
		files:  []string{"publish/v1/publish.proto"},
		params: []string{"publish_defaults=true"},
	},
}

// TestGolden generates every golden case in process, with protoc-gen-go for
// the messages and this plugin for the services, and compares the output
// with testdata/golden. go test -update rewrites it.
func TestGolden(t *testing.T) {
	var all []*pluginpb.CodeGeneratorResponse_File
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.request(t)
			messages, err := protoc.Run(req, protoc.ProtocGenGo)
			if err != nil {
				t.Fatal(err)
			}
			bindings, err := protoc.Run(req, inProcess)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range bindings {
				if !strings.HasSuffix(f.GetName(), ".triple.go") {
					t.Errorf("generated %s, want only .triple.go files", f.GetName())
				}
				checkGofmt(t, f)
				checkThin(t, f)
			}
			if tc.name == "messages" && len(bindings) != 0 {
				t.Errorf("a file without services generated %d files, want none", len(bindings))
			}
			all = append(all, messages...)
			all = append(all, bindings...)
		})
	}
	if t.Failed() {
		return
	}
	golden.CheckTree(t, goldenDir, ".go", all)
}

// inProcess is this plugin as a protoc.Plugin, run in process.
func inProcess(req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
	return generate(req), nil
}

// goldenFile returns the path below goldenDir of a generated file.
func goldenFile(importPath, name string) string {
	return path.Join(goldenDir, strings.TrimPrefix(importPath, goldenModule), name)
}

// TestDeterministic checks that the same request gives byte-identical
// output on every run, and that compiling the protos again changes nothing.
func TestDeterministic(t *testing.T) {
	for _, tc := range goldenCases {
		var first []*pluginpb.CodeGeneratorResponse_File
		for run := range 5 {
			req := tc.request(t)
			for range 2 {
				resp := generate(req)
				if resp.Error != nil {
					t.Fatalf("%s: %s", tc.name, resp.GetError())
				}
				if first == nil {
					first = resp.File
					continue
				}
				if diff := cmp.Diff(first, resp.File, protocmp.Transform()); diff != "" {
					t.Fatalf("%s: run %d differs from the first (-first +this):\n%s", tc.name, run, diff)
				}
			}
		}
	}
}

// checkGofmt checks that gofmt would not change a generated file: the
// generator writes its files already formatted, and protogen does not
// reformat them.
func checkGofmt(t *testing.T, f *pluginpb.CodeGeneratorResponse_File) {
	t.Helper()
	formatted, err := format.Source([]byte(f.GetContent()))
	if err != nil {
		t.Errorf("%s: gofmt: %v", f.GetName(), err)
		return
	}
	if diff := cmp.Diff(f.GetContent(), string(formatted)); diff != "" {
		t.Errorf("gofmt changes %s (-generated +gofmt):\n%s", f.GetName(), diff)
	}
}
