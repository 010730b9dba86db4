package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Each block marked <!-- region: PATH --> is a run of lines of PATH, a file
// the tests compile: line for line, each line trimmed of the spaces around
// it. This is how the docs show fragments of Go and of .proto files.
func TestRegions(t *testing.T) {
	for _, b := range allBlocks(t) {
		if b.marker.kind != "region" {
			continue
		}
		if err := compiledByTests(b.marker.arg); err != nil {
			t.Errorf("%v: <!-- region: %s -->: %v; show a region of a file the tests compile", b, b.marker.arg, err)
			continue
		}
		src, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(b.marker.arg)))
		if err != nil {
			t.Fatal(err)
		}
		if err := isRegion(b, trimmedLines(string(src))); err != nil {
			t.Error(err)
		}
	}
}

// isRegion checks that the trimmed lines of b are a run of file, the trimmed
// lines of b.marker.arg. Its error says where the longest partial run
// stops.
func isRegion(b block, file []string) error {
	want := trimmedLines(b.text)
	best, at := 0, 0 // the longest run of want's first lines in file, and where it starts
	for i := range file {
		n := 0
		for n < len(want) && i+n < len(file) && file[i+n] == want[n] {
			n++
		}
		if n == len(want) {
			return nil
		}
		if n > best {
			best, at = n, i
		}
	}
	if best == 0 {
		return fmt.Errorf("%s: %q is no line of %s, which the block is marked as a region of: make the block a copy of lines of the file",
			b.at(1), want[0], b.marker.arg)
	}
	has := "nothing more"
	if at+best < len(file) {
		has = fmt.Sprintf("%q", file[at+best])
	}
	return fmt.Errorf("%s: %q is not in %s after the block's lines before it, which are %s:%d-%d; the file has %s there: "+
		"make the block a copy of lines of the file", b.at(best+1), want[best], b.marker.arg, b.marker.arg, at+1, at+best, has)
}

// trimmedLines returns the lines of text, each trimmed of the spaces around
// it, without the line end of the last.
func trimmedLines(text string) []string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return lines
}

// Every ```go block is tested: a whole file (with a package clause) is
// marked as a copy of a file the tests build, and a fragment as a region
// of one.
func TestGoBlocks(t *testing.T) {
	for _, b := range allBlocks(t) {
		if b.lang != "go" {
			continue
		}
		whole := packageClauseRE.MatchString(b.text)
		switch {
		case whole && b.marker.kind == "file":
			if err := compiledByTests(b.marker.arg); err != nil {
				t.Errorf("%v is a copy of %s, but %v: make it a copy of a file the tests build", b, b.marker.arg, err)
			}
		case whole:
			t.Errorf("%v is a whole Go file, which no test builds: make it a file of a package the tests build "+
				"(the quick start's, or an example's), and put <!-- file: PATH --> before the block", b)
		case b.marker.kind != "region":
			t.Errorf("%v is a fragment of Go, which no test compiles: put <!-- region: PATH --> before it, "+
				"with PATH a .go file the tests build that holds its lines", b)
		}
	}
}

var packageClauseRE = regexp.MustCompile(`(?m)^package \w+`)
