package docs

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
)

// unchecked are the commands a ```sh block may run that no test checks
// here: they install things, are run by the install and quick start tests,
// or filter output.
var unchecked = []string{"apt-get", "brew", "mkdir", "protoc", "buf", "sed"}

// Every command of every ```sh block that names something of this
// repository names something that is there: the packages it runs, tests
// and installs, the tests and benchmarks it selects, the scripts and their
// variables, the plugin's flags. Blocks that the install and quick start
// tests run, and blocks marked as copies of files, are not checked again.
func TestShellBlocks(t *testing.T) {
	run := routeBlocks(t)
	for _, d := range allDocs(t) {
		sh := shell{t: t, cwd: "."}
		for _, b := range d.blocks {
			if b.lang != "sh" || b.marker.kind == "file" || run[b.String()] {
				continue
			}
			cmds, err := b.commands()
			if err != nil {
				t.Error(err)
				continue
			}
			for _, c := range cmds {
				if err := sh.check(c); err != nil {
					t.Errorf("%v: %v", c, err)
				}
			}
		}
	}
}

// A shell follows the commands of one doc, in order, to check them.
type shell struct {
	t *testing.T
	// cwd is the directory the commands run in, relative to the
	// repository root; "" once a cd has left the repository (the reader's
	// own module, say), where nothing is checked.
	cwd string
}

func (sh *shell) check(c command) error {
	if len(c.args) == 0 {
		return nil // only assignments
	}
	name := c.args[0]
	switch {
	case name == "sudo":
		c.args = c.args[1:]
		return sh.check(c)
	case slices.Contains(unchecked, name):
		return nil
	case name == "cd":
		if len(c.args) != 2 || sh.cwd == "" {
			sh.cwd = ""
			return nil
		}
		dir := path.Join(sh.cwd, c.args[1])
		if info, err := os.Stat(filepath.Join(repoRoot, dir)); err == nil && info.IsDir() && !strings.HasPrefix(dir, "..") {
			sh.cwd = dir
		} else {
			sh.cwd = ""
		}
		return nil
	case sh.cwd == "":
		return nil
	case name == "go":
		return sh.checkGo(c)
	case strings.HasSuffix(name, ".sh"):
		return checkScript(path.Join(sh.cwd, name), c.env)
	case name == "protoc-gen-go-retry":
		return checkPluginFlags(sh.t, c.args[1:])
	}
	return fmt.Errorf("the docs tests check no command %s: check it in TestShellBlocks (example/internal/docs/shell_test.go), "+
		"or, if a test runs it, add it to unchecked there", name)
}

// checkScript checks that the script at p, relative to the repository
// root, exists, can be run, and reads each variable that env sets.
func checkScript(p string, env []string) error {
	file := filepath.Join(repoRoot, filepath.FromSlash(p))
	info, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("there is no script %s", p)
	}
	if info.Mode()&0o111 == 0 {
		return fmt.Errorf("%s cannot be run: chmod +x it (git update-index --chmod=+x)", p)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	for _, e := range env {
		v, _, _ := strings.Cut(e, "=")
		if !regexp.MustCompile(`\b` + v + `\b`).Match(src) {
			return fmt.Errorf("%s is given %s, which it never reads", p, v)
		}
	}
	return nil
}

// checkPluginFlags checks that protoc-gen-go-retry --help lists each flag
// of args.
func checkPluginFlags(t *testing.T, args []string) error {
	help := pluginHelp(t)
	for _, a := range args {
		flag, _, _ := strings.Cut(a, "=")
		if strings.HasPrefix(flag, "-") && !slices.Contains(help.flags, flag) {
			return fmt.Errorf("protoc-gen-go-retry has no flag %s (its --help lists %s)", flag, strings.Join(help.flags, ", "))
		}
	}
	return nil
}

// The README's test command (the ```sh block after "Every test") is the
// one CI runs (.ci/run).
func TestTestCommand(t *testing.T) {
	readme := readDoc(t, "README.md")
	b, ok := blockAfter(readme, "Every test")
	if !ok {
		t.Fatal("README.md has no ```sh block after a paragraph that begins \"Every test\": the test command")
	}
	want, err := ciTestCommand()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(b.text); got != want {
		t.Errorf("%v is the test command\n\t%s\nbut .ci/run runs\n\t%s\nmake them the same", b, got, want)
	}
}

// blockAfter returns the first ```sh block of d after a line that begins
// with prefix.
func blockAfter(d *doc, prefix string) (block, bool) {
	for n, line := range d.lines {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		for _, b := range d.blocks {
			if b.line > n+1 && b.lang == "sh" {
				return b, true
			}
		}
	}
	return block{}, false
}

// The commands of the docs install the dubbo-go the example is tested
// against.
func TestDubboVersionInCommands(t *testing.T) {
	out, err := tempmod.Go("..", "list", "-m", "-f", "{{.Version}}", "dubbo.apache.org/dubbo-go/v3")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(out)
	re := regexp.MustCompile(`dubbo\.apache\.org/dubbo-go/v3@(\S+)`)
	found := false
	for _, b := range allBlocks(t) {
		for _, m := range re.FindAllStringSubmatch(b.text, -1) {
			found = true
			if m[1] != want {
				t.Errorf("%v installs dubbo-go %s; the examples are tested against %s (example/go.mod)", b, m[1], want)
			}
		}
	}
	if !found {
		t.Errorf("no command of the docs installs dubbo.apache.org/dubbo-go/v3@%s", want)
	}
}
