package main

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/corpus"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/gen"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// The code generation benchmarks run this plugin and protoc-gen-go in
// process on the same request, built from the corpus of package corpus
// (corpus.Standard is 1x: 20 files x 10 services x 20 unary methods, two
// messages per method). Run them with
//
//	go test -run '^$' -bench Codegen -benchmem ./cmd/protoc-gen-go-retry
//
// scripts/bench-codegen.sh compares the two binaries run by protoc.

// codegenPlugins are the generators compared.
var codegenPlugins = []struct {
	name string
	run  protoc.Plugin
}{
	{"retry", inProcess},
	{"protoc-gen-go", protoc.ProtocGenGo},
}

// BenchmarkCodegen generates the corpus at 1x, 4x and 16x its size: the
// time and memory per method should stay flat.
func BenchmarkCodegen(b *testing.B) {
	for _, scale := range []int{1, 4, 16} {
		c := corpus.Standard.Scale(scale)
		for _, p := range codegenPlugins {
			b.Run(fmt.Sprintf("corpus=%dx/gen=%s", scale, p.name), func(b *testing.B) {
				benchmarkPlugin(b, c, p.run)
			})
		}
	}
}

// BenchmarkCodegenSharedMessages generates a 1x corpus whose methods share
// one request and response message per file: mostly services, which this
// plugin generates and protoc-gen-go barely touches.
func BenchmarkCodegenSharedMessages(b *testing.B) {
	c := corpus.Standard
	c.SharedMessages = true
	for _, p := range codegenPlugins {
		b.Run("gen="+p.name, func(b *testing.B) {
			benchmarkPlugin(b, c, p.run)
		})
	}
}

// BenchmarkCodegenPhases splits a run of this plugin on the 1x corpus,
// both kinds: protogen's view of the request (new), that and the generator
// writing its files, already formatted (emit), and that and protogen's
// response (all, what BenchmarkCodegen measures).
func BenchmarkCodegenPhases(b *testing.B) {
	for _, shared := range []bool{false, true} {
		c := corpus.Standard
		c.SharedMessages = shared
		msgs := "own"
		if shared {
			msgs = "shared"
		}
		for _, phase := range []string{"new", "emit", "all"} {
			b.Run("msgs="+msgs+"/phase="+phase, func(b *testing.B) {
				measureCodegen(b, c, func(req *pluginpb.CodeGeneratorRequest) int {
					plugin, err := protogen.Options{}.New(req)
					if err != nil {
						b.Fatal(err)
					}
					if phase == "new" {
						return 0
					}
					files, err := gen.Generate(plugin, gen.Config{Version: version, MaxRetries: gen.DefaultMaxRetries})
					if err != nil {
						b.Fatal(err)
					}
					if phase == "emit" {
						return codegenOutputSize(files)
					}
					resp := plugin.Response()
					if resp.Error != nil {
						b.Fatal(resp.GetError())
					}
					return codegenOutputSize(append(resp.File, files...))
				})
			})
		}
	}
}

func benchmarkPlugin(b *testing.B, c corpus.Config, plugin protoc.Plugin) {
	measureCodegen(b, c, func(req *pluginpb.CodeGeneratorRequest) int {
		files, err := protoc.Run(req, plugin)
		if err != nil {
			b.Fatal(err)
		}
		return codegenOutputSize(files)
	})
}

// measureCodegen runs op, which generates corpus c from the request protoc
// would send and returns the size of its output, in a benchmark loop.
// Besides ns/op, B/op and allocs/op it reports ns/method; cpu-ns/op, the
// CPU time of every thread of the process (the garbage collector's
// included), which is less sensitive than ns/op to other processes
// competing for the CPUs; and out-B/method, the size of the output.
func measureCodegen(b *testing.B, c corpus.Config, op func(*pluginpb.CodeGeneratorRequest) int) {
	req := corpusRequest(b, c) // compiled before the clock starts
	b.ReportAllocs()
	runtime.GC() // not the garbage of the setup
	cpu := benchCPUTime()
	var out int
	for b.Loop() {
		out = op(req)
	}
	cpu = benchCPUTime() - cpu
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.MethodCount()), "ns/method")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	if out > 0 {
		b.ReportMetric(float64(out)/float64(c.MethodCount()), "out-B/method")
	}
}

func codegenOutputSize(files []*pluginpb.CodeGeneratorResponse_File) int {
	n := 0
	for _, f := range files {
		n += len(f.GetContent())
	}
	return n
}

// benchRequests keeps the request of the last corpus compiled, which the
// benchmarks of both plugins use: compiling it takes longer than generating
// it. Only one is kept, so that the garbage collector of a benchmark does
// not also scan the requests of the others.
var benchRequests struct {
	sync.Mutex
	c   corpus.Config
	req *pluginpb.CodeGeneratorRequest
}

// corpusRequest returns the request protoc would send for corpus c.
func corpusRequest(b *testing.B, c corpus.Config) *pluginpb.CodeGeneratorRequest {
	b.Helper()
	benchRequests.Lock()
	defer benchRequests.Unlock()
	if benchRequests.req != nil && benchRequests.c == c {
		return benchRequests.req
	}
	benchRequests.req = nil
	dir := b.TempDir()
	names, err := corpus.Write(dir, c)
	if err != nil {
		b.Fatal(err)
	}
	req, err := protoc.Request([]string{dir}, names, "paths=source_relative")
	if err != nil {
		b.Fatal(err)
	}
	benchRequests.c, benchRequests.req = c, req
	return req
}
