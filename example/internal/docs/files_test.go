package docs

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "copy into the docs the files their blocks are marked as copies of")

// Each block marked <!-- file: PATH --> is PATH, byte for byte.
// go -C example test ./internal/docs -update copies the files into the docs.
func TestFileBlocks(t *testing.T) {
	if *update {
		for _, name := range docNames(t) {
			updateDoc(t, name)
		}
	}
	for _, b := range allBlocks(t) {
		if b.marker.kind != "file" {
			continue
		}
		want, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(b.marker.arg)))
		if err != nil {
			t.Errorf("%v: the block is marked as a copy of %s: %v", b, b.marker.arg, err)
			continue
		}
		if b.text != string(want) {
			t.Errorf("%v differs from %s; make them the same "+
				"(go -C example test ./internal/docs -update copies the file into the doc):\n%s",
				b, b.marker.arg, lineDiff(string(want), b.text, "the file has"))
		}
	}
}

// updateDoc copies into the document name the files its blocks are marked
// as copies of.
func updateDoc(t *testing.T, name string) {
	t.Helper()
	d := readDoc(t, name)
	lines := slices.Clone(d.lines)
	// From the last block to the first, so that the line numbers of those
	// before stay right.
	for _, b := range slices.Backward(d.blocks) {
		if b.marker.kind != "file" {
			continue
		}
		content, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(b.marker.arg)))
		if err != nil {
			t.Fatalf("%v: %v", b, err)
		}
		var repl []string
		for _, l := range strings.Split(strings.TrimSuffix(string(content), "\n"), "\n") {
			if l != "" {
				l = b.indent + l
			}
			repl = append(repl, l)
		}
		lines = slices.Concat(lines[:b.line-1], repl, lines[b.end-1:])
	}
	out := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(repoRoot, filepath.FromSlash(name)), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Every file of the quick start that a newcomer needs is in the README: in a
// block marked as a copy of it, or behind a link to it or to a directory
// that holds it.
func TestQuickStartFilesShown(t *testing.T) {
	readme := readDoc(t, "README.md")
	var shown []string
	for _, b := range readme.blocks {
		if b.marker.kind == "file" {
			shown = append(shown, b.marker.arg)
		}
	}
	for _, l := range docLinks(readme) {
		shown = append(shown, l.target)
	}
	files, err := quickstartFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !slices.ContainsFunc(shown, func(s string) bool { return s == f || strings.HasPrefix(f, strings.TrimSuffix(s, "/")+"/") }) {
			t.Errorf("%s is not in README.md: show it in the quick start, in a block after <!-- file: %s -->, "+
				"or link to it (or to its directory)", f, f)
		}
	}
}

// lineDiff shows the first line where got, a block, differs from want,
// which is what wantIs says: "the file has", say.
func lineDiff(want, got, wantIs string) string {
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
			return fmt.Sprintf("line %d of the block is %s; %s %s", i+1, at(g), wantIs, at(w))
		}
	}
}

// freeLanguages are the languages of blocks that are tested only when
// marked.
var freeLanguages = []string{"", "text"}

// testedLanguages are the languages of blocks that are always tested (by
// TestShellBlocks, TestGoBlocks, TestProtoBlocks and TestYAMLBlocks).
var testedLanguages = []string{"sh", "go", "proto", "yaml"}

// Every block is of a language the tests know: one they test, or text.
func TestBlockLanguages(t *testing.T) {
	for _, b := range allBlocks(t) {
		if !slices.Contains(testedLanguages, b.lang) && !slices.Contains(freeLanguages, b.lang) {
			t.Errorf("%v: the tests know no ```%s: write ```sh, ```go, ```proto or ```yaml, which they test, "+
				"or ```text (or no language) for what they need not", b, b.lang)
		}
	}
}

// Every ```yaml block is marked as a copy of a file.
func TestYAMLBlocks(t *testing.T) {
	for _, b := range allBlocks(t) {
		if b.lang == "yaml" && b.marker.kind != "file" {
			t.Errorf("%v is tested by nothing: make it a file a test reads (as the quick start's buf.yaml), "+
				"and put <!-- file: PATH --> before it", b)
		}
	}
}
