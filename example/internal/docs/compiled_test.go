package docs

import (
	"errors"
	"fmt"
	"go/build"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// builtTrees are the trees of the repository whose Go files a test builds
// although the go command's patterns skip them, each with the package of
// that test (which must name the tree).
var builtTrees = map[string]string{
	"testdata/golden": "example/internal/e2e", // every golden, built and vetted against dubbo-go
}

// compiledByTests returns nil if the tests compile the file p (relative to
// the repository root), so that a doc may show a region of it, and an
// error that says why not otherwise: a .go file of a package of a module
// the test command tests, of the quick start (TestQuickStart builds it) or
// of a tree in builtTrees; or a .proto whose generated code a test checks
// (its .pb.go beside it, or in testdata/golden for testdata/proto), or the
// quick start's.
func compiledByTests(p string) error {
	file := filepath.Join(repoRoot, filepath.FromSlash(p))
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("there is no %s", p)
	}
	if strings.HasPrefix(p, quickstart+"/") {
		return nil
	}
	switch path.Ext(p) {
	case ".go":
		return goFileCompiled(p)
	case ".proto":
		base := strings.TrimSuffix(p, ".proto")
		generated := []string{base + ".pb.go"}
		if rel, ok := strings.CutPrefix(base, "testdata/proto/"); ok {
			generated = append(generated, "testdata/golden/"+rel+".pb.go")
		}
		for _, g := range generated {
			if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(g))); err == nil {
				return nil
			}
		}
		return fmt.Errorf("no test compiles %s: no test checks its generated code (%s)", p, strings.Join(generated, " or "))
	}
	return fmt.Errorf("%s is neither a .go nor a .proto file, which the tests compile", p)
}

// goFileCompiled returns nil if p, a .go file, is in a package the tests
// build.
func goFileCompiled(p string) error {
	for tree, test := range builtTrees {
		if strings.HasPrefix(p, tree+"/") {
			return treeBuiltBy(tree, test)
		}
	}
	for _, elem := range strings.Split(path.Dir(p), "/") {
		if elem == "testdata" || strings.HasPrefix(elem, ".") || strings.HasPrefix(elem, "_") {
			return fmt.Errorf("the go command skips %s (it is in %s), so no test compiles it", p, elem)
		}
	}
	module := moduleOf(path.Dir(p))
	tested, err := testedModules()
	if err != nil {
		return err
	}
	if !slices.Contains(tested, module) {
		return fmt.Errorf("%s is in the module at %s, which the test command does not test", p, module)
	}
	pkg, err := importDir(path.Dir(p))
	var noGo *build.NoGoError
	if err != nil && !errors.As(err, &noGo) {
		return err
	}
	if !slices.Contains(slices.Concat(pkg.GoFiles, pkg.CgoFiles, pkg.TestGoFiles, pkg.XTestGoFiles), path.Base(p)) {
		return fmt.Errorf("no test compiles %s: its build constraints exclude it", p)
	}
	return nil
}

// importDir reads the package in dir, relative to the repository root.
func importDir(dir string) (*build.Package, error) {
	d := filepath.Join(repoRoot, filepath.FromSlash(dir))
	if info, err := os.Stat(d); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("there is no directory %s", dir)
	}
	pkg, err := build.ImportDir(d, 0)
	if err != nil {
		return pkg, fmt.Errorf("%s is no package: %w", dir, err)
	}
	return pkg, nil
}

// treeBuiltBy checks that the test package test still names tree.
func treeBuiltBy(tree, test string) error {
	files, err := filepath.Glob(filepath.Join(repoRoot, filepath.FromSlash(test), "*_test.go"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && strings.Contains(string(b), tree) {
			return nil
		}
	}
	return fmt.Errorf("%s no longer names %s, which builtTrees (example/internal/docs/compiled_test.go) says it builds", test, tree)
}

// moduleOf returns the root of the module that holds dir, both relative to
// the repository root: the nearest directory up that has a go.mod.
func moduleOf(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(dir), "go.mod")); err == nil || dir == "." {
			return dir
		}
		dir = path.Dir(dir)
	}
}

// testedModules returns the modules whose every package the test command
// of .ci/run tests (go test ./..., or go -C DIR test ./...), relative to
// the repository root.
func testedModules() ([]string, error) {
	cmd, err := ciTestCommand()
	if err != nil {
		return nil, err
	}
	cmds, err := (block{doc: ".ci/run", lang: "sh", text: cmd + "\n", line: 1}).commands()
	if err != nil {
		return nil, err
	}
	var modules []string
	for _, c := range cmds {
		args := c.args
		dir := "."
		if len(args) > 2 && args[0] == "go" && args[1] == "-C" {
			dir, args = path.Clean(args[2]), append([]string{"go"}, args[3:]...)
		}
		if len(args) > 2 && args[0] == "go" && args[1] == "test" && slices.Contains(args, "./...") {
			modules = append(modules, dir)
		}
	}
	return modules, nil
}

// ciTestCommand returns the test command that .ci/run runs: the go test
// ./... of its first line that runs one, up to the first ";".
func ciTestCommand() (string, error) {
	ci, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "run"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(ci), "\n") {
		if i := strings.Index(line, "go test ./..."); i >= 0 && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			cmd, _, _ := strings.Cut(line[i:], ";")
			return strings.TrimSpace(cmd), nil
		}
	}
	return "", errors.New(".ci/run runs no go test ./...: the test command")
}
