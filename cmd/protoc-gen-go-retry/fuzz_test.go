package main

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/fuzzcases"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// The fuzz targets hold the generator to what a protoc plugin owes any
// request, however odd: it never panics, and it either reports an error
// and writes nothing, or writes Go source that parses.
//
// Without -fuzz, go test runs each target on its seeds and on the inputs kept
// in testdata/fuzz, which is where a failing input found by fuzzing
// belongs. Run them with, for example:
//
//	go test ./cmd/protoc-gen-go-retry -run '^$' -fuzz FuzzGenerate -fuzztime 3m
//	go test ./cmd/protoc-gen-go-retry -run '^$' -fuzz FuzzDescriptor -fuzztime 3m

// FuzzGenerate feeds the generator whole CodeGeneratorRequests, as protoc
// writes them on the plugin's standard input. The seeds are the golden
// requests and variants of them that flip what the generator looks at
// (internal/fuzzcases, which the example module also builds from).
func FuzzGenerate(f *testing.F) {
	var seeds []*pluginpb.CodeGeneratorRequest
	for _, tc := range goldenCases {
		seeds = append(seeds, fuzzSeedRequest(f, tc.files, strings.Join(append([]string{"module=" + goldenModule}, tc.params...), ",")))
	}
	base := fuzzSeedRequest(f, []string{fuzzcases.BaseFile}, "")
	for _, v := range fuzzcases.Variants {
		req := proto.CloneOf(base)
		v(req)
		seeds = append(seeds, req)
	}
	for _, req := range seeds {
		f.Add(mustMarshal(f, req))
		// The same request with a slim descriptor.proto, so that most
		// mutations land in the file to generate.
		slim := fuzzcases.SlimRequest(req)
		if !proto.Equal(generate(req), generate(slim)) {
			f.Fatalf("a slim descriptor.proto changes the output for %v", req.FileToGenerate)
		}
		f.Add(mustMarshal(f, slim))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(pluginpb.CodeGeneratorRequest)
		if proto.Unmarshal(b, req) != nil {
			return
		}
		checkGenerate(t, req)
	})
}

// FuzzDescriptor fuzzes one file of a request at the level of its
// descriptor (fuzzcases.DescriptorInput): its path, package and go_package,
// the names and comments of a service and one of its methods, the raw bytes
// of the three retry options, the method's idempotency and streaming,
// deprecation, protoc's version and the plugin parameter. Mutating these
// directly reaches inputs that byte-level mutation of a whole request, most
// of which is descriptor.proto, seldom does.
func FuzzDescriptor(f *testing.F) {
	base := fuzzSeedRequest(f, []string{fuzzcases.BaseFile}, "")
	seeds, err := fuzzcases.DescriptorSeeds(base)
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range seeds {
		f.Add(in.Path, in.Pkg, in.GoPackage, in.Service, in.Method, in.Comment,
			in.MethodOpt, in.ServiceOpt, in.FileOpt, in.Flags, in.Param, in.Suffix)
	}
	f.Fuzz(func(t *testing.T, path, pkg, goPackage, service, method, comment string,
		methodOpt, serviceOpt, fileOpt []byte, flags uint16, param, suffix string) {
		in := fuzzcases.DescriptorInput{Path: path, Pkg: pkg, GoPackage: goPackage, Service: service, Method: method,
			Comment: comment, MethodOpt: methodOpt, ServiceOpt: serviceOpt, FileOpt: fileOpt, Flags: flags,
			Param: param, Suffix: suffix}
		if req := in.Request(base); req != nil {
			checkGenerate(t, req)
		}
	})
}

// checkGenerate runs the generator on req and checks its response: an
// error and no files, or files that parse as Go. A panic fails the fuzz
// target by itself.
func checkGenerate(t *testing.T, req *pluginpb.CodeGeneratorRequest) {
	resp := generate(req)
	if resp.Error != nil {
		if len(resp.File) > 0 {
			t.Errorf("reported an error and wrote %d files: %s", len(resp.File), resp.GetError())
		}
		return
	}
	for _, file := range resp.File {
		if !strings.HasSuffix(file.GetName(), ".triple.go") {
			t.Errorf("wrote %q, want only .triple.go files", file.GetName())
		}
		if _, err := parser.ParseFile(token.NewFileSet(), file.GetName(), file.GetContent(), parser.ParseComments); err != nil {
			t.Errorf("%s does not parse: %v\n%s", file.GetName(), err, clipSource(file.GetContent()))
			continue
		}
		checkGofmt(t, file)
		checkThin(t, file)
	}
}

// clipSource shortens generated source for a failure message.
func clipSource(s string) string {
	const max = 4000
	if len(s) > max {
		return s[:max] + "\n[...]"
	}
	return s
}

// fuzzSeedRequest compiles files of testdata/proto into the request protoc
// would send with parameter.
func fuzzSeedRequest(f *testing.F, files []string, parameter string) *pluginpb.CodeGeneratorRequest {
	f.Helper()
	req, err := protoc.Request([]string{protoDir}, files, parameter)
	if err != nil {
		f.Fatal(err)
	}
	return req
}

func mustMarshal(f *testing.F, m proto.Message) []byte {
	f.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
