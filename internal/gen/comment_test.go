package gen

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// Text that would break a Go file comes out of a comment as parsable text.
func TestCommentText(t *testing.T) {
	for in, want := range map[string]string{
		"greet.proto":         "greet.proto",
		"a\nb\r\nc":           "a b  c",
		"nul\x00":             "nul\uFFFD",
		"\uFEFFbom":           "\uFFFDbom",
		"bad \xff\xfe utf-8":  "bad \uFFFD utf-8",
		"ünïcödé is fine, 世界": "ünïcödé is fine, 世界",
	} {
		if got := commentText(in); got != want {
			t.Errorf("commentText(%q) = %q, want %q", in, got, want)
		}
	}
	src := "package p\n\n" + strings.Join(docComment([]string{" first\x00", " second \xff", "\uFEFF"}), "\n") + "\nvar V int\n"
	if _, err := parser.ParseFile(token.NewFileSet(), "", src, parser.ParseComments); err != nil {
		t.Errorf("docComment gave a comment that does not parse: %v\n%s", err, src)
	}
}
