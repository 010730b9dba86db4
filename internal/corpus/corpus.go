// Package corpus writes a synthetic, deterministic corpus of .proto files
// for the code generation benchmarks: files of services of unary methods
// that mix file, service and method retry options and idempotency levels,
// as a large API would.
package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Config is the shape of a corpus.
type Config struct {
	Files    int // .proto files, each its own proto and Go package
	Services int // services per file
	Methods  int // unary methods per service

	// SharedMessages gives every method of a file the same request and
	// response messages, instead of a pair of its own. With it the corpus
	// is mostly services, the part this plugin generates; without it there
	// are two messages per method, as in most real APIs.
	SharedMessages bool

	// GoPackage is the prefix of the Go import paths; each file's package
	// is GoPackage/fNNN. Empty means "example.com/corpus".
	GoPackage string
}

// Standard is the corpus the benchmarks call 1x: 20 files of 10 services
// of 20 methods, 4,000 methods.
var Standard = Config{Files: 20, Services: 10, Methods: 20}

// Scale returns c with n times as many files.
func (c Config) Scale(n int) Config {
	c.Files *= n
	return c
}

// MethodCount is the number of methods in the corpus.
func (c Config) MethodCount() int { return c.Files * c.Services * c.Methods }

// A File is one .proto file of the corpus, named as protoc names it: the
// path below the import directory.
type File struct {
	Name    string
	Content string
}

// Files returns the corpus described by c. The same c always gives the same
// files.
func Files(c Config) []File {
	files := make([]File, c.Files)
	for i := range files {
		files[i] = File{Name: fileName(i), Content: source(c, i)}
	}
	return files
}

// Write writes the corpus described by c below dir and returns the names of
// its files, relative to dir, as protoc wants them.
func Write(dir string, c Config) ([]string, error) {
	var names []string
	for _, f := range Files(c) {
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(f.Content), 0o644); err != nil {
			return nil, err
		}
		names = append(names, f.Name)
	}
	return names, nil
}

func fileName(i int) string { return fmt.Sprintf("corpus/f%03d/f%03d.proto", i, i) }

// verbs name the methods, so that they do not all look alike.
var verbs = []string{"Get", "List", "Create", "Update", "Delete", "Search", "Batch", "Watch"}

// source is the text of file i. The options repeat with periods that share
// no factor, so that every combination of file, service and method option
// occurs:
//
//   - file i%3: 0 {retries: 1}, 1 {retries: 2, idempotent_only: true}, 2 none;
//   - service j%4: 0 {retries: 3}, 1 {retries: 2, idempotent_only: true}, else none;
//   - method k%5: 0 (retry.v1.method).retries = k%4, 1 = {retries: 5}, else none;
//   - method k%3 == 0 is NO_SIDE_EFFECTS, else k%7 == 0 is IDEMPOTENT.
func source(c Config, i int) string {
	goPackage := c.GoPackage
	if goPackage == "" {
		goPackage = "example.com/corpus"
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	p("// File f%03d of the benchmark corpus: %d services of %d unary methods.", i, c.Services, c.Methods)
	p(`syntax = "proto3";`)
	p("")
	p("package corpus.f%03d;", i)
	p("")
	p(`import "retry/v1/retry.proto";`)
	p("")
	p(`option go_package = "%s/f%03d;f%03d";`, goPackage, i, i)
	switch i % 3 {
	case 0:
		p("option (retry.v1.file) = {retries: 1};")
	case 1:
		p("option (retry.v1.file) = {retries: 2, idempotent_only: true};")
	}
	if c.SharedMessages {
		p("")
		message(p, "Request", "the request of every method of this file")
		message(p, "Response", "the response of every method of this file")
	}
	for j := range c.Services {
		svc := fmt.Sprintf("Service%02d", j)
		if !c.SharedMessages {
			for k := range c.Methods {
				m := methodName(k)
				message(p, svc+m+"Request", "the request of "+svc+"."+m)
				message(p, svc+m+"Response", "the response of "+svc+"."+m)
			}
		}
		p("")
		p("// %s is service %d of file %d.", svc, j, i)
		p("service %s {", svc)
		switch j % 4 {
		case 0:
			p("  option (retry.v1.service) = {retries: 3};")
		case 1:
			p("  option (retry.v1.service) = {retries: 2, idempotent_only: true};")
		}
		for k := range c.Methods {
			m := methodName(k)
			in, out := "Request", "Response"
			if !c.SharedMessages {
				in, out = svc+m+"Request", svc+m+"Response"
			}
			var opts []string
			switch k % 5 {
			case 0:
				opts = append(opts, fmt.Sprintf("option (retry.v1.method).retries = %d;", k%4))
			case 1:
				opts = append(opts, "option (retry.v1.method) = {retries: 5};")
			}
			switch {
			case k%3 == 0:
				opts = append(opts, "option idempotency_level = NO_SIDE_EFFECTS;")
			case k%7 == 0:
				opts = append(opts, "option idempotency_level = IDEMPOTENT;")
			}
			p("")
			p("  // %s is method %d of %s.", m, k, svc)
			if len(opts) == 0 {
				p("  rpc %s(%s) returns (%s) {}", m, in, out)
				continue
			}
			p("  rpc %s(%s) returns (%s) {", m, in, out)
			for _, o := range opts {
				p("    %s", o)
			}
			p("  }")
		}
		p("}")
	}
	return b.String()
}

func methodName(k int) string { return fmt.Sprintf("%s%03d", verbs[k%len(verbs)], k) }

// message writes a message with a few fields of common kinds.
func message(p func(string, ...any), name, doc string) {
	p("")
	p("// %s is %s.", name, doc)
	p("message %s {", name)
	p("  string id = 1;")
	p("  int64 version = 2;")
	p("  repeated string tags = 3;")
	p("}")
}
