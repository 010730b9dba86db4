package docs

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	// repoRoot is the repository's root, from this package's directory.
	repoRoot = "../../.."
	// quickstart is the quick start's module, relative to repoRoot.
	quickstart = "example/quickstart"
)

// A doc is a Markdown document of the repository: README.md or one of
// docs/*.md.
type doc struct {
	name     string // relative to the repository root, as "docs/reference.md"
	lines    []string
	blocks   []block
	headings []heading
	// problems are its markers that mark nothing, or that the tests do not
	// know.
	problems []string
}

// A block is a fenced code block of a doc.
type block struct {
	doc    string // the doc's name
	lang   string
	text   string // its content, each line ended by "\n"
	line   int    // the doc's line of its first line of content
	end    int    // the doc's line of its closing fence
	indent string // of its fence, and so of its lines
	marker marker // the HTML comment before it, if any
}

// A marker is an HTML comment on the line before a fence (blank lines
// allowed between), <!-- kind: arg -->, that says what the block is and so
// how it is tested (doc.go lists the kinds).
type marker struct {
	kind, arg string
	line      int
}

// markerKinds are the markers the tests know.
var markerKinds = []string{"file", "output", "excerpt", "region", "invalid"}

var markerRE = regexp.MustCompile(`^<!--\s*([a-z]+):\s*(\S*)\s*-->$`)

func (b block) String() string { return fmt.Sprintf("%s:%d (```%s)", b.doc, b.line, b.lang) }

// at returns the position in its doc of the block's line n, counted from 1.
func (b block) at(n int) string { return fmt.Sprintf("%s:%d", b.doc, b.line+n-1) }

// lines returns the block's lines, without their ends.
func (b block) lines() []string { return strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") }

// A heading is an ATX heading (# to ######) of a doc.
type heading struct {
	text  string
	level int // the number of #
	line  int
}

// docNames returns the documents the tests read: README.md and docs/*.md,
// relative to the repository root.
func docNames(t *testing.T) []string {
	t.Helper()
	// go test caches a passing result, and reruns the test only when a
	// file it read has changed; but it watches only files inside the
	// example module. testdata/README.md and testdata/docs are links to
	// README.md and docs/: reading them makes an edit of a doc rerun the
	// tests. (The docs are read from where they are, for checkouts without
	// symbolic links, where these reads fail harmlessly.)
	os.Stat(filepath.Join("testdata", "README.md"))
	os.ReadDir(filepath.Join("testdata", "docs"))

	names := []string{"README.md"}
	md, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range md {
		names = append(names, path.Join("docs", filepath.Base(m)))
	}
	return names
}

// allDocs reads and parses every document.
func allDocs(t *testing.T) []*doc {
	t.Helper()
	var docs []*doc
	for _, name := range docNames(t) {
		docs = append(docs, readDoc(t, name))
	}
	return docs
}

// allBlocks returns the fenced code blocks of every document.
func allBlocks(t *testing.T) []block {
	t.Helper()
	var blocks []block
	for _, d := range allDocs(t) {
		blocks = append(blocks, d.blocks...)
	}
	return blocks
}

// readDoc reads and parses the document name, relative to the repository
// root.
func readDoc(t *testing.T, name string) *doc {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDoc(name, string(src))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// parseDoc parses the Markdown src of the document name.
func parseDoc(name, src string) (*doc, error) {
	d := &doc{name: name}
	var (
		cur     *block
		pending *marker // the last marker outside blocks, until a fence or text
	)
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		d.lines = append(d.lines, line)
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			indent := line[:len(line)-len(trimmed)]
			cur = &block{doc: name, lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```")), line: n + 1, indent: indent}
			if pending != nil {
				cur.marker, pending = *pending, nil
			}
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.end = n
			d.blocks = append(d.blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += strings.TrimPrefix(line, cur.indent) + "\n"
		case strings.TrimSpace(line) == "":
		default:
			if pending != nil {
				d.problems = append(d.problems, fmt.Sprintf("%s:%d: <!-- %s: %s --> is not right before a fenced block "+
					"(only blank lines may come between them): move it, or remove it", name, pending.line, pending.kind, pending.arg))
				pending = nil
			}
			if m := markerRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				if !slices.Contains(markerKinds, m[1]) || m[2] == "" {
					d.problems = append(d.problems, fmt.Sprintf("%s:%d: %s is no marker the tests know: "+
						"write <!-- KIND: ARG --> with KIND one of %s (example/internal/docs/doc.go)",
						name, n, strings.TrimSpace(line), strings.Join(markerKinds, ", ")))
					continue
				}
				pending = &marker{kind: m[1], arg: m[2], line: n}
			} else if h, ok := strings.CutPrefix(trimmed, "#"); ok && len(line)-len(trimmed) < 4 {
				if text := strings.TrimLeft(h, "#"); len(h)-len(text) < 6 && (text == "" || text[0] == ' ') {
					d.headings = append(d.headings, heading{
						text:  strings.TrimSpace(strings.TrimRight(strings.TrimSpace(text), "#")),
						level: 1 + len(h) - len(text),
						line:  n,
					})
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("%v is not closed", cur)
	}
	if pending != nil {
		d.problems = append(d.problems, fmt.Sprintf("%s:%d: <!-- %s: %s --> is followed by no fenced block", name, pending.line, pending.kind, pending.arg))
	}
	return d, nil
}

// TestMarkers checks that every marker marks a block, and is one the tests
// know.
func TestMarkers(t *testing.T) {
	for _, d := range allDocs(t) {
		for _, p := range d.problems {
			t.Error(p)
		}
	}
}

// section returns the blocks of d under the heading text, up to the next
// heading of its level or above.
func (d *doc) section(text string) ([]block, bool) {
	for i, h := range d.headings {
		if h.text != text {
			continue
		}
		end := len(d.lines) + 1
		for _, next := range d.headings[i+1:] {
			if next.level <= h.level {
				end = next.line
				break
			}
		}
		var blocks []block
		for _, b := range d.blocks {
			if b.line > h.line && b.line < end {
				blocks = append(blocks, b)
			}
		}
		return blocks, true
	}
	return nil, false
}
