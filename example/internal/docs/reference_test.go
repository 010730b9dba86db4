package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

// reference is the doc that must name everything a user can set.
const reference = "docs/reference.md"

// docs/reference.md names, in `code`, every option (retry.v1.method and the
// others) and every field of their messages, every parameter and flag of
// the plugin (as its --help lists them), and the runtime's API that
// callers use: Dial, PolicyOf, and every With and Without option of
// package dubboretry.
func TestReferenceIsComplete(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot, reference))
	if err != nil {
		t.Fatalf("%s, the reference, is missing (%v): it must name every option and field of retry/v1/retry.proto, "+
			"every parameter and flag of the plugin, and the API of dubboretry", reference, err)
	}
	var spans []string
	for _, m := range codeSpanRE.FindAllString(string(src), -1) {
		spans = append(spans, strings.Trim(m, "` "))
	}
	missing := func(what, name string, named func(span string) bool) {
		if !slices.ContainsFunc(spans, named) {
			t.Errorf("%s never names %s %s in `code`: document it there", reference, what, name)
		}
	}
	for _, name := range optionNames() {
		missing("the option", name, func(s string) bool { return strings.Contains(s, name) })
	}
	for _, name := range optionFields() {
		missing("the field", name, func(s string) bool { return wordRE(name).MatchString(s) })
	}
	h := pluginHelp(t)
	for _, name := range h.params {
		missing("the plugin parameter", name, func(s string) bool {
			rest, ok := strings.CutPrefix(s, name)
			return ok && (rest == "" || strings.ContainsRune("=[<", rune(rest[0])))
		})
	}
	for _, name := range h.flags {
		missing("the plugin's flag", name, func(s string) bool { return wordRE(name).MatchString(s) })
	}
	api, err := runtimeAPI()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range api {
		missing("dubboretry's", name, func(s string) bool { return wordRE(name).MatchString(s) })
	}
}

// wordRE matches name as a whole word.
func wordRE(name string) *regexp.Regexp {
	return regexp.MustCompile(`(^|[^\w-])` + regexp.QuoteMeta(name) + `($|[^\w-])`)
}

// optionNames returns the options that retry/v1/retry.proto declares, as
// a .proto names them: "(retry.v1.method)".
func optionNames() []string {
	var names []string
	exts := retryv1.File_retry_v1_retry_proto.Extensions()
	for i := range exts.Len() {
		names = append(names, "("+string(exts.Get(i).FullName())+")")
	}
	return names
}

// optionFields returns the names of the fields of the options' messages,
// and of the messages of retry/v1/retry.proto those hold (Backoff, Budget,
// Hedging), each once.
func optionFields() []string {
	file := retryv1.File_retry_v1_retry_proto
	var names []string
	seen := make(map[protoreflect.FullName]bool)
	var walk func(m protoreflect.MessageDescriptor)
	walk = func(m protoreflect.MessageDescriptor) {
		if seen[m.FullName()] || m.ParentFile() != file {
			return
		}
		seen[m.FullName()] = true
		fields := m.Fields()
		for i := range fields.Len() {
			f := fields.Get(i)
			if !slices.Contains(names, string(f.Name())) {
				names = append(names, string(f.Name()))
			}
			if f.Message() != nil {
				walk(f.Message())
			}
		}
	}
	exts := file.Extensions()
	for i := range exts.Len() {
		walk(exts.Get(i).Message())
	}
	return names
}

// runtimeAPI returns the functions of package dubboretry that callers use:
// Dial (the generated code's), PolicyOf, and the options whose names begin
// with With or Without.
func runtimeAPI() ([]string, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(repoRoot, "dubboretry", "*.go"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, name := range funcNames(file) {
			if ast.IsExported(name) && (strings.HasPrefix(name, "With") || name == "Dial" || name == "PolicyOf") {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}
