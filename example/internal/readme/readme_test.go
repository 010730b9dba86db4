package readme

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
)

const (
	// repoRoot is the repository's root, from this package's directory.
	repoRoot = "../../.."
	// quickstart is the quick start's module, relative to repoRoot.
	quickstart = "example/quickstart"
)

// A block is a fenced code block of README.md.
type block struct {
	lang   string
	text   string // its content, each line ended by "\n"
	line   int    // README.md's line of its first line of content
	end    int    // README.md's line of its closing fence
	indent string // of its fence, and so of its lines
	// From an HTML comment on the line before the fence (blank lines
	// allowed between them): <!-- file: PATH --> says the block is a copy of
	// PATH, and <!-- output: PATH --> that it is output of the command
	// built from the package PATH; PATH is relative to the repository root.
	file, output string
}

func (b block) String() string { return fmt.Sprintf("README.md:%d (```%s)", b.line, b.lang) }

var markerRE = regexp.MustCompile(`^<!-- (file|output): (\S+) -->$`)

// readmeBlocks returns the fenced code blocks of README.md.
func readmeBlocks(t *testing.T) []block {
	t.Helper()
	// go test caches a passing result, and reruns the test only when a
	// file it read has changed; but it watches only files inside the
	// example module. testdata/README.md is a link to README.md: stat-ing
	// it makes an edit of README.md rerun the test. (The content is read
	// from README.md itself, for checkouts without symbolic links.)
	if _, err := os.Stat(filepath.Join("testdata", "README.md")); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		blocks []block
		cur    *block
		indent string
		marker []string // of the last non-blank line outside blocks
	)
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			indent = line[:len(line)-len(trimmed)]
			cur = &block{lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```")), line: n + 1, indent: indent}
			if marker != nil {
				if marker[1] == "file" {
					cur.file = marker[2]
				} else {
					cur.output = marker[2]
				}
			}
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.end = n
			blocks = append(blocks, *cur)
			cur, marker = nil, nil
		case cur != nil:
			cur.text += strings.TrimPrefix(line, indent) + "\n"
		case strings.TrimSpace(line) != "":
			marker = markerRE.FindStringSubmatch(strings.TrimSpace(line))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%v is not closed", cur)
	}
	return blocks
}

var update = flag.Bool("update", false, "copy into README.md the files its blocks are marked as copies of")

// Each block marked as a copy of a file is that file, and every file of the
// quick start is shown. go -C example test ./internal/readme -update copies
// the files into the README.
func TestBlocksAreFiles(t *testing.T) {
	if *update {
		updateREADME(t)
	}
	shown := make(map[string]bool)
	for _, b := range readmeBlocks(t) {
		if b.file == "" {
			continue
		}
		shown[b.file] = true
		want, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(b.file)))
		if err != nil {
			t.Errorf("%v: the block is marked as a copy of %s: %v", b, b.file, err)
			continue
		}
		if b.text != string(want) {
			t.Errorf("%v differs from %s, which the test builds and runs; make them the same "+
				"(go -C example test ./internal/readme -update copies the file into the README):\n%s",
				b, b.file, lineDiff(string(want), b.text))
		}
	}
	files, err := quickstartFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !shown[f] {
			t.Errorf("%s is not in the README: show it in the quick start, in a block after <!-- file: %s -->", f, f)
		}
	}
}

// updateREADME copies into README.md the files its blocks are marked as
// copies of.
func updateREADME(t *testing.T) {
	path := filepath.Join(repoRoot, "README.md")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(src), "\n")
	blocks := readmeBlocks(t)
	// From the last block to the first, so that the line numbers of those
	// before stay right.
	for i := len(blocks) - 1; i >= 0; i-- {
		b := blocks[i]
		if b.file == "" {
			continue
		}
		content, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(b.file)))
		if err != nil {
			t.Fatalf("%v: %v", b, err)
		}
		var repl []string
		for _, l := range strings.SplitAfter(strings.TrimSuffix(string(content), "\n"), "\n") {
			l = strings.TrimSuffix(l, "\n")
			if l != "" {
				l = b.indent + l
			}
			repl = append(repl, l+"\n")
		}
		lines = slices.Concat(lines[:b.line-1], repl, lines[b.end-1:])
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// quickstartFiles returns the files of the quick start that the README shows:
// all but its go.mod, which stands for the user's own.
func quickstartFiles() ([]string, error) {
	var files []string
	err := filepath.WalkDir(filepath.Join(repoRoot, quickstart), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "go.mod" {
			return err
		}
		rel, err := filepath.Rel(repoRoot, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	return files, err
}

// lineDiff shows the first line where got differs from want.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; ; i++ {
		switch {
		case i >= len(w) && i >= len(g):
			return "(they differ only in line ends)"
		case i >= len(w) || i >= len(g) || w[i] != g[i]:
			at := func(lines []string) string {
				if i >= len(lines) {
					return "(nothing)"
				}
				return fmt.Sprintf("%q", lines[i])
			}
			return fmt.Sprintf("line %d of the block is %s; the file has %s", i+1, at(g), at(w))
		}
	}
}

// A Go block that is a whole file is a copy of one the test builds: a file
// of the quick start. (Fragments, without a package clause, are not built.)
func TestGoBlocksAreBuilt(t *testing.T) {
	complete := 0
	for _, b := range readmeBlocks(t) {
		if b.lang != "go" || !regexp.MustCompile(`(?m)^package \w+`).MatchString(b.text) {
			continue
		}
		complete++
		if !strings.HasPrefix(b.file, quickstart+"/") {
			t.Errorf("%v is a whole Go file, so it must build, but no test builds it: make it a file of %s "+
				"(which the test builds and runs), and put <!-- file: PATH --> before the block", b, quickstart)
		}
	}
	if complete < 2 {
		t.Errorf("the README has %d whole Go files; the quick start should show its server and its client", complete)
	}
}

// The commands of the README install the dubbo-go the example is tested
// against.
func TestDubboVersionInCommands(t *testing.T) {
	want := dubboVersion(t)
	re := regexp.MustCompile(`dubbo\.apache\.org/dubbo-go/v3@(\S+)`)
	found := false
	for _, b := range readmeBlocks(t) {
		for _, m := range re.FindAllStringSubmatch(b.text, -1) {
			found = true
			if m[1] != want {
				t.Errorf("%v installs dubbo-go %s; the README's examples are tested against %s", b, m[1], want)
			}
		}
	}
	if !found {
		t.Errorf("no command of the README installs dubbo.apache.org/dubbo-go/v3@%s", want)
	}
}

// dubboVersion is the version of dubbo-go the example module requires.
func dubboVersion(t *testing.T) string {
	t.Helper()
	out, err := tempmod.Go("..", "list", "-m", "-f", "{{.Version}}", "dubbo.apache.org/dubbo-go/v3")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}
