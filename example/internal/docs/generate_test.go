package docs

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// generate carries out a generate command of the quick start
// (protoc-gen-go-retry --write-options, or protoc) in dir, with the plugins
// in bin: protoc-gen-go and protoc-gen-go-retry. protoc is the real one if
// realProtoc, else compiled in process.
func generate(dir string, c command, bin string, realProtoc bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	switch c.args[0] {
	case "protoc-gen-go-retry":
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "protoc-gen-go-retry"), c.args[1:]...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		if !bytes.HasPrefix(out, []byte("protoc-gen-go-retry: wrote ")) {
			return fmt.Errorf("it printed %q, want it to say what it wrote", out)
		}
		return nil
	case "protoc":
		if !realProtoc {
			return runProtoc(dir, c.args[1:], bin)
		}
		cmd := exec.CommandContext(ctx, "protoc", c.args[1:]...)
		cmd.Dir = dir
		// protoc finds its plugins on PATH.
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	return fmt.Errorf("the test does not know how to run %s: teach generate (example/internal/docs/generate_test.go)", c.args[0])
}

// runProtoc does what protoc does with args in dir, for the flags the
// quick start uses, with the plugins in bin.
func runProtoc(dir string, args []string, bin string) error {
	var (
		importPaths, files []string
		out                = make(map[string]string) // by plugin: its output directory
		opts               = make(map[string]string) // by plugin: its parameter
	)
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch name, value, _ := strings.Cut(arg, "="); {
		case arg == "-I" || arg == "--proto_path":
			if i++; i == len(args) {
				return fmt.Errorf("%s needs a directory", arg)
			}
			importPaths = append(importPaths, args[i])
		case strings.HasPrefix(arg, "-I"):
			importPaths = append(importPaths, strings.TrimPrefix(arg, "-I"))
		case name == "--proto_path":
			importPaths = append(importPaths, value)
		case strings.HasPrefix(name, "--") && strings.HasSuffix(name, "_out"):
			out[strings.TrimSuffix(strings.TrimPrefix(name, "--"), "_out")] = value
		case strings.HasPrefix(name, "--") && strings.HasSuffix(name, "_opt"):
			p := strings.TrimSuffix(strings.TrimPrefix(name, "--"), "_opt")
			opts[p] = strings.Trim(opts[p]+","+value, ",")
		case strings.HasSuffix(arg, ".proto"):
			files = append(files, arg)
		default:
			return fmt.Errorf("the test does not know protoc's %s: teach runProtoc (example/internal/docs/generate_test.go)", arg)
		}
	}
	if len(importPaths) == 0 {
		importPaths = []string{"."}
	}
	var abs []string
	for _, p := range importPaths {
		abs = append(abs, filepath.Join(dir, p))
	}
	// protoc names each file relative to the first import path that holds
	// it.
	var names []string
	for _, f := range files {
		name := ""
		for _, p := range importPaths {
			if rel, err := filepath.Rel(p, f); err == nil && filepath.IsLocal(rel) {
				name = filepath.ToSlash(rel)
				break
			}
		}
		if name == "" {
			return fmt.Errorf("%s is in no import path (-I)", f)
		}
		names = append(names, name)
	}

	for _, p := range slices.Sorted(maps.Keys(out)) {
		exe := filepath.Join(bin, "protoc-gen-"+p)
		if _, err := os.Stat(exe); err != nil {
			return fmt.Errorf("the test has no plugin protoc-gen-%s", p)
		}
		req, err := protoc.Request(abs, names, opts[p])
		if err != nil {
			return err
		}
		// protoc.Request always finds retry/v1/retry.proto; protoc finds
		// only what is in an import path.
		for _, f := range req.ProtoFile {
			if !strings.HasPrefix(f.GetName(), "google/protobuf/") && !inImportPath(abs, f.GetName()) {
				return fmt.Errorf("%s: File not found (it is in no import path: %s)", f.GetName(), strings.Join(importPaths, ", "))
			}
		}
		generated, err := protoc.Run(req, protoc.Exec(exe))
		if err != nil {
			return fmt.Errorf("--%s_out: %v", p, err)
		}
		if err := protoc.Write(filepath.Join(dir, out[p]), generated); err != nil {
			return err
		}
	}
	return nil
}

func inImportPath(importPaths []string, name string) bool {
	for _, p := range importPaths {
		if _, err := os.Stat(filepath.Join(p, filepath.FromSlash(name))); err == nil {
			return true
		}
	}
	return false
}

// protocVersionRE is the line of a generated file's header that names the
// version of protoc, which is "(unknown)" in process.
var protocVersionRE = regexp.MustCompile(`(?m)^//(\s+-?\s*)protoc(\s+)\S+$`)

// sameFiles checks that the files, relative to both directories, are the
// same in got as in want, but for the version of protoc in their headers.
func sameFiles(want, got string, files []string) error {
	for _, f := range files {
		w, err := os.ReadFile(filepath.Join(want, filepath.FromSlash(f)))
		if err != nil {
			return err
		}
		g, err := os.ReadFile(filepath.Join(got, filepath.FromSlash(f)))
		if err != nil {
			return err
		}
		unversioned := func(b []byte) string { return protocVersionRE.ReplaceAllString(string(b), "//${1}protoc${2}(unknown)") }
		if unversioned(w) != unversioned(g) {
			return fmt.Errorf("%s differs from the protoc route's:\n%s", f, lineDiff(unversioned(w), unversioned(g), "the protoc route's has"))
		}
	}
	return nil
}

// listFiles returns the files below dir, relative to it, slash-separated.
func listFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	return files, err
}
