package gen

import (
	"go/format"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/compiler/protogen"
)

// TestWriterIndent checks that P indents a line by the braces and
// parentheses of the lines before it as gofmt does, including lines that
// close or open more than one bracket (gofmt indents by one level however
// many a line opens) and lines that close one and open another.
func TestWriterIndent(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"flat", []string{"var a = 1", "", "var b = 2"}, "var a = 1\n\nvar b = 2\n"},
		{"block", []string{"func f() {", "return", "}"}, "func f() {\n\treturn\n}\n"},
		{"parenthesised block", []string{"const (", "a = 1", ")"}, "const (\n\ta = 1\n)\n"},
		{"nested", []string{"func f() {", "if x {", "g()", "}", "}"}, "func f() {\n\tif x {\n\t\tg()\n\t}\n}\n"},
		{"closes and opens", []string{"if x {", "a()", "} else {", "b()", "}"}, "if x {\n\ta()\n} else {\n\tb()\n}\n"},
		{"opens two brackets, one level", []string{"f(func() {", "g()", "})"}, "f(func() {\n\tg()\n})\n"},
		{"closes two brackets, one level", []string{"x := T{", "F: func() {", "g()", "},", "}"},
			"x := T{\n\tF: func() {\n\t\tg()\n\t},\n}\n"},
		{"closes and goes on", []string{"return &T{", "a: 1,", "}, nil"}, "return &T{\n\ta: 1,\n}, nil\n"},
		{"switch", []string{"switch {", "case a:", "f()", "default:", "g()", "}"},
			"switch {\ncase a:\n\tf()\ndefault:\n\tg()\n}\n"},
		{"comments do not count brackets", []string{"func f() {", "// a comment {", "g()", "// (", "}"},
			"func f() {\n\t// a comment {\n\tg()\n\t// (\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWriter(nil, 0)
			for _, l := range tt.lines {
				w.P(l)
			}
			if diff := cmp.Diff(tt.want, string(w.buf)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// The parts of one call make one line, indented by its first part and
	// opening by its last.
	w := newWriter(nil, 0)
	w.P("func ", "f", "() {")
	w.P("", "return")
	w.P("}", "")
	if got, want := string(w.buf), "func f() {\n\treturn\n}\n"; got != want {
		t.Errorf("P with parts wrote %q, want %q", got, want)
	}
}

// TestWriterAligned checks aligned against gofmt, for the two places the
// generator uses it: a block of one-line specs and one-line key-value
// pairs.
func TestWriterAligned(t *testing.T) {
	w := newWriter(nil, 0)
	w.P("var (")
	w.aligned(column{"_ A", "= (*AImpl)(nil)"}, column{"_ LongerName", "= (*LongerNameImpl)(nil)"})
	w.P(")")
	w.P()
	w.P("var x = T{")
	w.aligned(column{"InterfaceName:", `"a.B",`}, column{"MethodNames:", `[]string{"C"},`})
	w.P("Func: func() {")
	w.P("},")
	w.P("}")
	src := "package p\n\n" + string(w.buf)
	want := "package p\n\nvar (\n\t_ A          = (*AImpl)(nil)\n\t_ LongerName = (*LongerNameImpl)(nil)\n)\n\n" +
		"var x = T{\n\tInterfaceName: \"a.B\",\n\tMethodNames:   []string{\"C\"},\n\tFunc: func() {\n\t},\n}\n"
	if diff := cmp.Diff(want, src); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	checkGofmt(t, src)
}

// TestDocText checks the wrapping of the generator's own text: at most 77
// columns after "// ", words kept whole, runs of spaces folded.
func TestDocText(t *testing.T) {
	long := strings.Repeat("x", 90)
	words := strings.TrimSpace(strings.Repeat("word ", 15)) // 74 columns
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"one  line   of\ttext\n", []string{" one line of text"}},
		// 77 columns fit; 78 do not.
		{words + " ab", []string{" " + words + " ab"}},
		{words + " abc", []string{" " + words, " abc"}},
		{"a " + long + " b", []string{" a", " " + long, " b"}},
	}
	for _, tt := range tests {
		d := new(doc).text(tt.in)
		if diff := cmp.Diff(tt.want, []string(*d)); diff != "" {
			t.Errorf("text(%q) (-want +got):\n%s", tt.in, diff)
		}
		for _, line := range *d {
			if len(line) > 78 && strings.Contains(line, " ") && line != " "+long {
				t.Errorf("text(%q) wrote a line of %d columns: %q", tt.in, len(line), line)
			}
		}
	}
}

// TestDocComment checks that a doc comment put together from a .proto's
// comments is written as gofmt prints it: gofmt must change nothing, in
// front of a top-level declaration, whatever the comment looks like.
func TestDocComment(t *testing.T) {
	tests := map[string]string{
		"plain":               " Greet says hello.\n It answers at once.",
		"paragraphs":          " First.\n\n Second.",
		"list":                " Options:\n - one\n - two\n\n 1. first\n 2. second",
		"list without blank":  " Intro\n * star item\n + plus item",
		"heading":             " Intro.\n\n # Heading\n\n Text.",
		"old-style heading":   " Intro.\n\n Heading\n\n Text.",
		"code block":          " Example:\n\n   code()\n   more()\n\n After.",
		"tabs":                "\tindented by a tab\n text\twith a tab",
		"link definition":     " See [the docs].\n\n [the docs]: https://example.com/",
		"directive":           "go:generate rm -rf /\n text",
		"directive alone":     "go:noinline",
		"line directive":      "line foo.go:1\nextern x\nexport y",
		"blank lines":         " a\n\n\n b\n",
		"leading blank":       "\n a",
		"bullet":              " \u2022 bullet",
		"numbers":             " 2024 was a year.",
		"control characters":  " nul\x00 here\n bom \uFEFF there\n bad \xff utf-8",
		"indented first line": "   code first",
	}
	for name, comments := range tests {
		t.Run(name, func(t *testing.T) {
			d := new(doc).line("F is a function.").comments(protogen.Comments(comments)).deprecated(true)
			w := newWriter(nil, 0)
			w.doc(d)
			w.P("func F() {}")
			src := "package p\n\n" + string(w.buf)
			checkGofmt(t, src)
			for _, line := range strings.Split(src, "\n") {
				if strings.HasPrefix(line, "//") && isDirective(strings.TrimPrefix(line, "//")) {
					t.Errorf("the .proto's comment became a directive: %q", line)
				}
			}
		})
	}
}

// TestDocCommentPlain checks the fast path of docComment against the slow
// one: whenever isPlainDoc says go/doc/comment would leave a comment as it
// is, it does.
func TestDocCommentPlain(t *testing.T) {
	for _, raw := range [][]string{
		{" one line."},
		{" a", "", " b"},
		{" Heading?", "", " text."},
		{" x", "", " Alone.", "", " y"},
		{" a:", "", " b"},
	} {
		text := make([]string, len(raw))
		for i, l := range raw {
			text[i] = strings.TrimPrefix(l, " ")
		}
		if !isPlainDoc(text) {
			continue
		}
		src := "package p\n\n" + strings.Join(docComment(raw), "\n") + "\nvar V int\n"
		checkGofmt(t, src)
	}
}

func checkGofmt(t *testing.T, src string) {
	t.Helper()
	formatted, err := format.Source([]byte(src))
	if err != nil {
		t.Fatalf("gofmt: %v\n%s", err, src)
	}
	if diff := cmp.Diff(src, string(formatted)); diff != "" {
		t.Errorf("gofmt changes the output (-written +gofmt):\n%s", diff)
	}
}
