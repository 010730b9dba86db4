// Package fuzzbuild holds the fuzz targets' outputs to more than parsing:
// a fixed sample of them must build and vet against dubbo-go.
//
// The fuzz targets of cmd/protoc-gen-go-retry (fuzz_test.go) check that the
// plugin either refuses a request or writes Go that parses and is gofmt'd;
// Go that parses may still not compile, and fuzzing cannot run the
// compiler on every input. This test generates, with protoc-gen-go and the
// plugin, the inputs kept in cmd/protoc-gen-go-retry/testdata/fuzz, the
// seeds of both targets and inputs drawn by internal/fuzzcases from a fixed
// seed, and builds and vets all that the plugin writes in one module, in
// one go build and one go vet.
//
// Of the inputs drawn, it takes the first sampleInputs; with -all (for CI),
// all randomInputs:
//
//	go -C example test ./internal/fuzzbuild -all
//
// It builds with -trimpath, so that the go command's cache knows an output
// built before wherever the test writes it: a run builds only what the
// plugin now writes differently.
package fuzzbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/fuzzcases"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

const (
	repoRoot  = "../../.."
	protoDir  = repoRoot + "/testdata/proto"
	corpusDir = repoRoot + "/cmd/protoc-gen-go-retry/testdata/fuzz"
	// module is the module the outputs are built in.
	module = "fuzzbuild.test"
	// randomInputs is how many inputs internal/fuzzcases draws with -all,
	// sampleInputs how many without, and randomSeed what it draws them
	// from: a fixed sample, the first of which are the same either way.
	randomInputs = 460
	sampleInputs = 100
	randomSeed   = 9
	// minBuilt is the fewest samples that must reach the compiler, with
	// -all and without, so that a change that makes the plugin refuse most
	// inputs shows.
	minBuilt       = 150
	minSampleBuilt = 45
)

var all = flag.Bool("all", false, fmt.Sprintf("build the outputs of all %d inputs drawn, not of the first %d: for CI", randomInputs, sampleInputs))

// A sample is one request of a fuzz target.
type sample struct {
	name string
	req  *pluginpb.CodeGeneratorRequest
	// describe says what the input was, for a failure.
	describe func() string
}

func TestFuzzOutputsBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a few hundred packages")
	}
	samples := collect(t)
	plugin := buildPlugin(t)

	// Generate in parallel, then write in the order of the samples: the
	// first of several that generate the same files is the one built.
	results := make([]struct {
		pkgs packages
		err  error
	}, len(samples))
	work := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i].pkgs, results[i].err = outputs(samples[i].req, plugin)
			}
		}()
	}
	for i := range samples {
		work <- i
	}
	close(work)
	wg.Wait()

	dir := t.TempDir()
	var (
		built   = make(map[string]*sample) // by directory below dir
		seen    = make(map[[32]byte]bool)  // outputs written, by content
		refused int
		skipped int
	)
	for i, r := range results {
		s := &samples[i]
		switch {
		case r.err != nil:
			t.Errorf("%s: %v\ninput: %s", s.name, r.err, s.describe())
		case r.pkgs == nil:
			refused++
		case len(r.pkgs) == 0:
			skipped++
		case !seen[r.pkgs.sum()]:
			seen[r.pkgs.sum()] = true
			sub := fmt.Sprintf("s%03d", i)
			if err := r.pkgs.write(filepath.Join(dir, sub), module+"/"+sub); err != nil {
				t.Errorf("%s: %v", s.name, err)
			}
			built[sub] = s
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("%d samples: %d refused by the plugin, %d without pb.go (protoc-gen-go refused them), %d distinct outputs built",
		len(samples), refused, skipped, len(built))
	least := minSampleBuilt
	if *all {
		least = minBuilt
	}
	if len(built) < least {
		t.Fatalf("only %d distinct outputs to build, want at least %d", len(built), least)
	}

	if err := tempmod.New(dir, module, repoRoot); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"build", "vet"} {
		out, err := tempmod.Command(context.Background(), dir, verb, "-trimpath", "./...").CombinedOutput()
		if err == nil {
			continue
		}
		failed := failures(out)
		if len(failed) == 0 {
			t.Fatalf("go %s ./...: %v\n%s", verb, err, out)
		}
		for _, sub := range slices.Sorted(maps.Keys(failed)) {
			s := built[sub]
			if s == nil {
				t.Errorf("go %s: %s:\n%s", verb, sub, failed[sub])
				continue
			}
			t.Errorf("go %s: the output of %s does not %s:\n%s\ninput: %s", verb, s.name, verb, failed[sub], s.describe())
		}
	}
}

// collect returns the samples: the inputs kept in the corpus, the seeds of
// both fuzz targets and inputs drawn from a fixed seed.
func collect(t *testing.T) []sample {
	base, err := fuzzcases.BaseRequest(protoDir, "")
	if err != nil {
		t.Fatal(err)
	}
	var samples []sample
	descriptor := func(name string, in fuzzcases.DescriptorInput) {
		req := in.Request(base)
		if req == nil {
			return // FuzzDescriptor skips it too
		}
		if b, err := proto.Marshal(req); err != nil || proto.Unmarshal(b, new(pluginpb.CodeGeneratorRequest)) != nil {
			// Options left as invalid unknown fields (FlagNoRoundTrip):
			// FuzzDescriptor hands the request to the generator in
			// process; there is no way to send it to a plugin binary.
			return
		}
		samples = append(samples, sample{name: name, req: req, describe: func() string { return fmt.Sprintf("%#v", in) }})
	}

	corpus, err := fuzzcases.ReadCorpus(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range corpus {
		name := "testdata/fuzz/" + e.Target + "/" + e.Name
		switch e.Target {
		case "FuzzDescriptor":
			in, err := fuzzcases.DescriptorInputOf(e.Args)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			descriptor(name, in)
		case "FuzzGenerate":
			b, ok := e.Args[0].([]byte)
			req := new(pluginpb.CodeGeneratorRequest)
			if len(e.Args) != 1 || !ok {
				t.Fatalf("%s: want one []byte", name)
			}
			if proto.Unmarshal(b, req) == nil {
				samples = append(samples, sample{name: name, req: req, describe: func() string { return name }})
			}
		default:
			t.Fatalf("%s: no fuzz target %s", name, e.Target)
		}
	}
	for i, v := range fuzzcases.Variants {
		req := proto.CloneOf(base)
		v(req)
		name := fmt.Sprintf("FuzzGenerate variant %d", i)
		samples = append(samples, sample{name: name, req: req, describe: func() string { return "fuzzcases.Variants[" + strconv.Itoa(i) + "]" }})
	}
	seeds, err := fuzzcases.DescriptorSeeds(base)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range seeds {
		descriptor(fmt.Sprintf("FuzzDescriptor seed %d", i), in)
	}
	r := rand.New(rand.NewPCG(randomSeed, randomSeed))
	n := sampleInputs
	if *all {
		n = randomInputs
	}
	for i := range n {
		descriptor(fmt.Sprintf("random input %d", i), fuzzcases.Random(r, seeds))
	}
	return samples
}

// buildPlugin builds protoc-gen-go-retry from the source of this checkout.
func buildPlugin(t *testing.T) protoc.Plugin {
	t.Helper()
	path, err := tempmod.BuildPlugin(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return protoc.Exec(path)
}

// packages are the Go files generated for one request, by import path.
type packages map[string]map[string]string // import path: file name: content

// sum identifies the content of pkgs.
func (pkgs packages) sum() [32]byte {
	h := sha256.New()
	for _, ip := range slices.Sorted(maps.Keys(pkgs)) {
		for _, name := range slices.Sorted(maps.Keys(pkgs[ip])) {
			fmt.Fprintf(h, "%q %q %d\n%s", ip, name, len(pkgs[ip][name]), pkgs[ip][name])
		}
	}
	return [32]byte(h.Sum(nil))
}

// provided are the import paths whose packages the module already has.
var provided = []string{"google.golang.org/protobuf/", "github.com/dubbo-retry/protoc-gen-go-retry/options/"}

func isProvided(importPath string) bool {
	return slices.ContainsFunc(provided, func(p string) bool { return strings.HasPrefix(importPath, p) })
}

// outputs generates req with protoc-gen-go and plugin, and returns the Go
// files of the packages the plugin writes to. It returns nil if the plugin
// refuses req, and no packages if protoc-gen-go does.
func outputs(req *pluginpb.CodeGeneratorRequest, plugin protoc.Plugin) (packages, error) {
	resp, err := plugin(req)
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		if len(resp.File) > 0 {
			return nil, fmt.Errorf("reported an error and wrote %d files: %s", len(resp.File), resp.GetError())
		}
		return nil, nil
	}
	// Where the plugin's files go: protogen knows each file's import
	// path, and names the output as the plugin does.
	gen, err := protogen.Options{ParamFunc: func(string, string) error { return nil }}.New(req)
	if err != nil {
		return nil, fmt.Errorf("the plugin accepted a request protogen refuses: %v", err)
	}
	moduleParam := ""
	for _, p := range strings.Split(req.GetParameter(), ",") {
		if v, ok := strings.CutPrefix(p, "module="); ok {
			moduleParam = v
		}
	}
	pkgs := make(packages)
	add := func(ip protogen.GoImportPath, name, content string) {
		if pkgs[string(ip)] == nil {
			pkgs[string(ip)] = make(map[string]string)
		}
		pkgs[string(ip)][name] = content
	}
	for _, out := range resp.File {
		var file *protogen.File
		for _, f := range gen.Files {
			name := f.GeneratedFilenamePrefix + ".triple.go"
			if moduleParam != "" {
				name = strings.TrimPrefix(name, moduleParam+"/")
			}
			if f.Generate && name == out.GetName() {
				file = f
			}
		}
		if file == nil {
			return nil, fmt.Errorf("wrote %s, which is no file's .triple.go", out.GetName())
		}
		add(file.GoImportPath, filepath.Base(out.GetName()), out.GetContent())
	}
	if len(pkgs) == 0 {
		return pkgs, nil
	}

	// protoc-gen-go, for every file that is not in a package the module
	// has, with the M parameters only: the rest are the plugin's, and
	// where it writes does not matter here.
	messagesReq := proto.CloneOf(req)
	messagesReq.FileToGenerate = nil
	for _, f := range gen.Files {
		if !isProvided(string(f.GoImportPath)) {
			messagesReq.FileToGenerate = append(messagesReq.FileToGenerate, f.Desc.Path())
		}
	}
	var ms []string
	for _, p := range strings.Split(req.GetParameter(), ",") {
		if strings.HasPrefix(p, "M") {
			ms = append(ms, p)
		}
	}
	messagesReq.Parameter = proto.String(strings.Join(ms, ","))
	messages, err := protoc.Run(messagesReq, protoc.ProtocGenGo)
	if err != nil {
		return make(packages), nil
	}
	genMessages, err := protogen.Options{}.New(messagesReq)
	if err != nil {
		return nil, err
	}
	for _, out := range messages {
		for _, f := range genMessages.Files {
			if f.GeneratedFilenamePrefix == strings.TrimSuffix(out.GetName(), ".pb.go") && !isProvided(string(f.GoImportPath)) {
				add(f.GoImportPath, filepath.Base(out.GetName()), out.GetContent())
			}
		}
	}
	return pkgs, nil
}

// write writes pkgs below dir, each package in a directory of its own,
// dir/p0, dir/p1…, as packages of prefix: the import paths the request
// gave them, which may be anything, are rewritten in every import of the
// files.
func (pkgs packages) write(dir, prefix string) error {
	paths := slices.Sorted(maps.Keys(pkgs))
	rename := make(map[string]string, len(paths))
	for i, ip := range paths {
		rename[ip] = fmt.Sprintf("%s/p%d", prefix, i)
	}
	for i, ip := range paths {
		pdir := filepath.Join(dir, fmt.Sprintf("p%d", i))
		if err := os.MkdirAll(pdir, 0o755); err != nil {
			return err
		}
		for j, name := range slices.Sorted(maps.Keys(pkgs[ip])) {
			src, err := rewriteImports(name, pkgs[ip][name], rename)
			if err != nil {
				return err
			}
			// The name the file was given may be anything too; go build
			// ignores one that starts with a dot or an underscore.
			file := fmt.Sprintf("f%d_%s", j, strings.Map(func(r rune) rune {
				if r < 0x80 && (r == '.' || r == '-' || r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
					return r
				}
				return '_'
			}, name))
			if err := os.WriteFile(filepath.Join(pdir, file), src, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// rewriteImports returns src with the import paths that rename maps
// replaced.
func rewriteImports(name, src string, rename map[string]string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	out := []byte(src)
	for i := len(f.Imports) - 1; i >= 0; i-- {
		lit := f.Imports[i].Path
		path, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, err
		}
		to, ok := rename[path]
		if !ok {
			continue
		}
		start, end := fset.Position(lit.Pos()).Offset, fset.Position(lit.End()).Offset
		out = slices.Concat(out[:start:start], []byte(strconv.Quote(to)), out[end:])
	}
	return out, nil
}

// failures returns the output of go build or go vet by the sample
// directory (s012) whose package it is about.
func failures(out []byte) map[string]string {
	failed := make(map[string]string)
	sub := ""
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		if m := packageLine.FindSubmatch(line); m != nil {
			sub = string(m[1])
		} else if m := fileLine.FindSubmatch(line); m != nil {
			sub = string(m[1])
		}
		if sub != "" {
			failed[sub] += string(line)
		}
	}
	return failed
}

var (
	packageLine = regexp.MustCompile(`^# ` + regexp.QuoteMeta(module) + `/(s\d+)/`)
	fileLine    = regexp.MustCompile(`^(?:vet: )?\.?/?(s\d+)/`)
)
