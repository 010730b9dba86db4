package docs

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// A link is a relative link of a doc: [text](target#anchor), or a
// reference definition [text]: target#anchor.
type link struct {
	doc    string
	line   int
	raw    string // as written
	target string // relative to the repository root; the doc itself for "#anchor"
	anchor string
	// outside says target leads out of the repository, where GitHub shows
	// no page.
	outside bool
}

func (l link) String() string { return fmt.Sprintf("%s:%d: (%s)", l.doc, l.line, l.raw) }

var (
	inlineLinkRE = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refLinkRE    = regexp.MustCompile(`(?m)^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$`)
	codeSpanRE   = regexp.MustCompile("`+[^`]*`+")
	schemeRE     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	lineAnchorRE = regexp.MustCompile(`^L\d+(-L\d+)?$`)
)

// docLinks returns the relative links of d, outside code blocks and code
// spans. Links to other sites (with a scheme, as https:) are not its.
func docLinks(d *doc) []link {
	text := proseOnly(d)
	var links []link
	add := func(raw string, offset int) {
		if schemeRE.MatchString(raw) {
			return
		}
		target, anchor, _ := strings.Cut(raw, "#")
		l := link{doc: d.name, line: 1 + strings.Count(text[:offset], "\n"), raw: raw, anchor: anchor, target: d.name}
		if target != "" {
			from := d.name
			if strings.HasPrefix(target, "/") { // from the repository's root, on GitHub
				from = ""
			}
			var inside bool
			l.target, inside = repoPath(from, strings.TrimPrefix(target, "/"))
			l.outside = !inside
		}
		links = append(links, l)
	}
	for _, m := range inlineLinkRE.FindAllStringSubmatchIndex(text, -1) {
		add(text[m[2]:m[3]], m[0])
	}
	for _, m := range refLinkRE.FindAllStringSubmatchIndex(text, -1) {
		add(text[m[2]:m[3]], m[0])
	}
	return links
}

// proseOnly returns the text of d with its code blocks and code spans
// blanked, line for line.
func proseOnly(d *doc) string {
	lines := make([]string, len(d.lines))
	copy(lines, d.lines)
	for _, b := range d.blocks {
		for n := b.line - 1; n <= b.end; n++ { // the fences too
			lines[n-1] = ""
		}
	}
	text := strings.Join(lines, "\n")
	return codeSpanRE.ReplaceAllStringFunc(text, func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '\n' {
				return r
			}
			return ' '
		}, s)
	})
}

// Every relative link of every doc leads to a file or directory of the
// repository, and every #anchor to a heading of the Markdown file it is in.
func TestLinks(t *testing.T) {
	anchors := make(map[string]map[string]bool) // by doc
	for _, d := range allDocs(t) {
		for _, l := range docLinks(d) {
			if err := checkLink(l, anchors); err != nil {
				t.Error(err)
			}
		}
	}
}

// checkLink checks that l leads somewhere; anchors caches the anchors of
// the Markdown files read so far.
func checkLink(l link, anchors map[string]map[string]bool) error {
	if l.outside {
		return fmt.Errorf("%v leads out of the repository, where GitHub shows no page: link to a file of the repository, or to a whole URL", l)
	}
	info, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(l.target)))
	if err != nil {
		return fmt.Errorf("%v: %s is no file or directory of the repository: fix the path (relative to %s)", l, l.target, docDir(l.doc))
	}
	if l.anchor == "" {
		return nil
	}
	if !strings.HasSuffix(l.target, ".md") || info.IsDir() {
		if !info.IsDir() && lineAnchorRE.MatchString(l.anchor) {
			return nil // GitHub's anchor of a line, or of lines, of a file
		}
		return fmt.Errorf("%v: #%s is an anchor in %s, which is not a Markdown file: remove it, or make it #L<line>", l, l.anchor, l.target)
	}
	if anchors[l.target] == nil {
		src, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(l.target)))
		if err != nil {
			return err
		}
		d, err := parseDoc(l.target, string(src))
		if err != nil {
			return err
		}
		anchors[l.target] = headingAnchors(d.headings)
	}
	if !anchors[l.target][l.anchor] {
		return fmt.Errorf("%v: %s has no heading whose anchor is #%s (GitHub's anchor of a heading is its text in lower case, "+
			"spaces as '-', without punctuation but '-' and '_'; a repeated heading's gets -1, -2): "+
			"fix the anchor, or the heading", l, l.target, l.anchor)
	}
	return nil
}

// headingAnchors returns the anchors GitHub gives the headings.
func headingAnchors(headings []heading) map[string]bool {
	anchors := make(map[string]bool)
	seen := make(map[string]int)
	for _, h := range headings {
		s := slug(h.text)
		if n := seen[s]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			anchors[s] = true
		}
		seen[s]++
	}
	return anchors
}

var headingLinkRE = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// slug returns the anchor GitHub gives a heading with text: its rendered
// text in lower case, each space a '-', without any punctuation but '-' and
// '_'.
func slug(text string) string {
	text = headingLinkRE.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"Quick start", "quick-start"},
		{"Put `retry/v1/retry.proto` on the import path", "put-retryv1retryproto-on-the-import-path"},
		{"What it does, and why", "what-it-does-and-why"},
		{"dubbo-go versions, and its issues", "dubbo-go-versions-and-its-issues"},
		{"From v0.2", "from-v02"},
		{"The [options](x.md) file", "the-options-file"},
		{"max_retries: a cap", "max_retries-a-cap"},
	} {
		if got := slug(tc.heading); got != tc.want {
			t.Errorf("slug(%q) = %q, want %q", tc.heading, got, tc.want)
		}
	}
	got := headingAnchors([]heading{{text: "Errors"}, {text: "Errors"}, {text: "Errors"}})
	for _, want := range []string{"errors", "errors-1", "errors-2"} {
		if !got[want] {
			t.Errorf("three headings Errors: no anchor %s in %v", want, got)
		}
	}
}

// repoPath returns the path relative to the repository root of target, a
// path relative to the directory of the document docName, and whether it
// stays inside the repository.
func repoPath(docName, target string) (string, bool) {
	p := path.Join(path.Dir(docName), target)
	return p, p != ".." && !strings.HasPrefix(p, "../")
}

// docDir says where the relative links of the document name start from.
func docDir(name string) string {
	if dir := path.Dir(name); dir != "." {
		return dir + "/"
	}
	return "the repository's root"
}
