package docs

import (
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// valueFlags are the flags of go build, run and test that take a value as
// the next word.
var valueFlags = []string{
	"-C", "-o", "-p", "-tags", "-mod", "-modfile", "-ldflags", "-gcflags", "-asmflags", "-overlay", "-pgo",
	"-run", "-skip", "-bench", "-benchtime", "-fuzz", "-fuzztime", "-fuzzminimizetime", "-count", "-cpu",
	"-parallel", "-timeout", "-exec", "-coverprofile", "-cpuprofile", "-memprofile", "-blockprofile",
	"-mutexprofile", "-outputdir", "-trace", "-covermode", "-coverpkg", "-shuffle", "-vet",
}

// goArgs are the words of a go command after its subcommand, told apart.
type goArgs struct {
	flags    map[string]string // by name, as "-run"
	packages []string          // up to the first that is not a package, for go run
}

// parseGoArgs reads the words after the subcommand sub.
func parseGoArgs(sub string, words []string) goArgs {
	a := goArgs{flags: make(map[string]string)}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if name, value, ok := strings.Cut(w, "="); ok && strings.HasPrefix(w, "-") {
			a.flags[name] = value
			continue
		}
		if strings.HasPrefix(w, "-") {
			if isValueFlag(w) && i+1 < len(words) {
				i++
				a.flags[w] = words[i]
			} else {
				a.flags[w] = ""
			}
			continue
		}
		a.packages = append(a.packages, w)
		if sub == "run" {
			break // the rest are the program's
		}
	}
	return a
}

func isValueFlag(w string) bool {
	for _, f := range valueFlags {
		if w == f || w == "-"+f || w == "-test."+strings.TrimPrefix(f, "-") {
			return true
		}
	}
	return false
}

// checkGo checks a go command: the directory it runs in is a module of the
// repository, the packages it runs or installs are commands, those it
// tests, builds or vets are there, and the tests, benchmarks and fuzz
// targets it selects exist.
func (sh *shell) checkGo(c command) error {
	words := c.args[1:]
	dir := sh.cwd
	if len(words) >= 2 && words[0] == "-C" {
		dir, words = path.Join(dir, words[1]), words[2:]
	} else if len(words) >= 1 && strings.HasPrefix(words[0], "-C=") {
		dir, words = path.Join(dir, strings.TrimPrefix(words[0], "-C=")), words[1:]
	}
	if len(words) == 0 {
		return fmt.Errorf("no go subcommand")
	}
	sub, a := words[0], parseGoArgs(words[0], words[1:])
	switch sub {
	case "mod", "get", "env", "version", "clean", "work", "doc":
		return nil
	case "install":
		if len(a.packages) > 0 && strings.Contains(a.packages[0], "@") {
			return nil // from the module proxy: the install test runs the README's
		}
		return checkCommands(dir, a.packages)
	case "run":
		if err := checkModule(dir); err != nil {
			return err
		}
		return checkCommands(dir, a.packages)
	case "tool":
		if f, ok := a.flags["-modfile"]; ok {
			if _, err := os.Stat(filepath.Join(repoRoot, dir, f)); err != nil {
				return fmt.Errorf("there is no %s", path.Join(dir, f))
			}
		}
		return nil
	case "test", "build", "vet", "generate", "list":
		if err := checkModule(dir); err != nil {
			return err
		}
		if len(a.packages) == 0 {
			a.packages = []string{"."}
		}
		for _, p := range a.packages {
			if err := checkPackage(dir, p); err != nil {
				return err
			}
		}
		if sub == "test" {
			return checkSelected(dir, a)
		}
		return nil
	}
	return fmt.Errorf("the docs tests check no go %s: teach checkGo (example/internal/docs/gocommand_test.go)", sub)
}

// checkModule checks that dir, relative to the repository root, is the root
// of a module.
func checkModule(dir string) error {
	if _, err := os.Stat(filepath.Join(repoRoot, dir, "go.mod")); err != nil {
		return fmt.Errorf("%s is not a module of the repository (it has no go.mod)", dir)
	}
	return nil
}

// checkPackage checks that the package pattern p, in the module at dir,
// matches a package of the repository.
func checkPackage(dir, p string) error {
	if !strings.HasPrefix(p, ".") {
		return nil // a path of another module
	}
	base, recursive := strings.CutSuffix(p, "/...")
	d := filepath.Join(repoRoot, dir, base)
	if recursive {
		if info, err := os.Stat(d); err != nil || !info.IsDir() {
			return fmt.Errorf("%s matches no package: there is no directory %s", p, path.Join(dir, base))
		}
		return nil
	}
	_, err := importDir(path.Join(dir, p))
	var noGo *build.NoGoError
	if errors.As(err, &noGo) && hasTests(d) {
		return nil // a package of tests only
	}
	return err
}

// checkCommands checks that each package of pkgs, relative to dir, is a
// command (package main).
func checkCommands(dir string, pkgs []string) error {
	for _, p := range pkgs {
		if !strings.HasPrefix(p, ".") {
			continue
		}
		pkg, err := importDir(path.Join(dir, p))
		if err != nil {
			return err
		}
		if pkg.Name != "main" {
			return fmt.Errorf("%s is package %s, not a command (package main)", path.Join(dir, p), pkg.Name)
		}
	}
	return nil
}

// checkSelected checks that the tests, benchmarks and fuzz targets that the
// flags of a go test select exist: in each package named, or somewhere
// under a pattern with "...".
func checkSelected(dir string, a goArgs) error {
	for _, sel := range []struct {
		flag     string
		prefixes []string
	}{
		{"-run", []string{"Test", "Example", "Fuzz"}},
		{"-bench", []string{"Benchmark"}},
		{"-fuzz", []string{"Fuzz"}},
	} {
		expr, ok := a.flags[sel.flag]
		if !ok || expr == "^$" {
			continue
		}
		top, _, _ := strings.Cut(expr, "/")
		re, err := regexp.Compile(top)
		if err != nil {
			return fmt.Errorf("%s %s: %v", sel.flag, expr, err)
		}
		for _, p := range a.packages {
			base, recursive := strings.CutSuffix(p, "/...")
			names, err := testFuncs(filepath.Join(repoRoot, dir, base), recursive)
			if err != nil {
				return err
			}
			found := false
			for _, n := range names {
				for _, prefix := range sel.prefixes {
					found = found || strings.HasPrefix(n, prefix) && re.MatchString(n)
				}
			}
			if !found {
				return fmt.Errorf("%s %s selects nothing in %s: it has no %s function that matches",
					sel.flag, expr, path.Join(dir, p), strings.Join(sel.prefixes, ", "))
			}
		}
	}
	return nil
}

// hasTests reports whether the directory d holds test files.
func hasTests(d string) bool {
	m, _ := filepath.Glob(filepath.Join(d, "*_test.go"))
	return len(m) > 0
}

// testFuncs returns the names of the functions declared in the test files
// of the directory d and, if recursive, of the directories below it that the
// go command would see (not testdata, nor those beginning with . or _, nor
// other modules).
func testFuncs(d string, recursive bool) ([]string, error) {
	var names []string
	err := filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if p == d {
				return nil
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); !recursive || err == nil ||
				e.Name() == "testdata" || strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "_") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		names = append(names, funcNames(f)...)
		return nil
	})
	return names, err
}

// funcNames returns the names of the functions (not methods) f declares.
func funcNames(f *ast.File) []string {
	var names []string
	for _, decl := range f.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil {
			names = append(names, fn.Name.Name)
		}
	}
	return names
}
