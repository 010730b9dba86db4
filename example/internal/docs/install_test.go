package docs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
)

// The published route, as a newcomer follows the README: its install
// commands (go install ...@latest), then its quick start in a fresh module,
// with the plugins they installed, then go get, go mod tidy, go build and
// go vet. The module proxy is one on disk that holds this checkout's root
// module and runtime module at the plugin's version; everything else comes
// from the module cache (or the GOPROXY set, for what the cache lacks).
// go mod tidy must add both modules at that version, and the generated code
// must be the protoc route's.
func TestInstallPublished(t *testing.T) {
	want := protocRoute(t)
	routes := readmeRoutes(t)
	version := pluginVersion(t)
	mods, err := publishedModules()
	if err != nil {
		t.Fatal(err)
	}
	proxy := t.TempDir()
	if err := writeProxy(proxy, version, mods); err != nil {
		t.Fatal(err)
	}
	env := goEnv(t)
	vars := publishedModCache(t, mods, version, env)
	vars["GOPROXY"] = fileURL(proxy) + "," + fileURL(filepath.Join(env.modCache, "cache", "download")) + "," + env.proxy
	setReaderEnv(t, vars)

	dir := followREADME(t, routes, routes.published)
	var paths []string
	for _, m := range mods {
		paths = append(paths, m.path)
	}
	out, err := tempmod.Go(dir, slices.Concat([]string{"list", "-m", "-f", "{{.Path}} {{.Version}}"}, paths)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if !slices.Contains(strings.Split(out, "\n"), p+" "+version) {
			t.Errorf("after go mod tidy, the module requires\n%swant %s at %s", out, p, version)
		}
	}
	if err := sameFiles(want.dir, dir, want.files); err != nil {
		t.Error(err)
	}
}

// The route from a checkout, as the README gives it: install the plugin
// from the checkout and point the module at it (go mod edit), with
// ../protoc-gen-go-retry standing for this checkout; then the quick start,
// built and vetted, and the generated code the protoc route's.
func TestInstallFromCheckout(t *testing.T) {
	want := protocRoute(t)
	routes := readmeRoutes(t)
	checkout, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	installs := routes.checkout
	installs.text = strings.ReplaceAll(installs.text, routes.checkoutDir, checkout)
	env := goEnv(t)
	setReaderEnv(t, map[string]string{
		"GOMODCACHE": env.modCache,
		"GOPROXY":    fileURL(filepath.Join(env.modCache, "cache", "download")) + "," + env.proxy,
	})

	dir := followREADME(t, routes, installs)
	if err := sameFiles(want.dir, dir, want.files); err != nil {
		t.Error(err)
	}
}

// followREADME carries out, in a fresh directory, the commands of the
// quick start's blocks, with those of installs right after its go mod
// init, and returns the directory of the module it made. The environment
// is the test's (setReaderEnv).
func followREADME(t *testing.T, r routes, installs block) string {
	t.Helper()
	ins, err := installs.commands()
	if err != nil {
		t.Fatal(err)
	}
	_, realProtoc := exec.LookPath("protoc")
	rd := &reader{cwd: t.TempDir(), bin: os.Getenv("GOBIN"), installs: ins, realProtoc: realProtoc == nil}
	for _, b := range r.quickStart {
		cmds, err := b.commands()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cmds {
			if err := rd.do(c); err != nil {
				t.Fatalf("%v: %v", c, err)
			}
		}
	}
	if rd.installs != nil {
		t.Fatal("the README's quick start makes no module (go mod init), where the install commands go")
	}
	if !rd.ran {
		t.Fatal("the README's quick start never runs its server or client (go run)")
	}
	if err := buildAndVet(rd.cwd, ""); err != nil {
		t.Fatal(err)
	}
	return rd.cwd
}

// A reader carries out the commands of the README, as a newcomer would.
type reader struct {
	cwd        string
	bin        string    // where go install puts the plugins (GOBIN)
	installs   []command // carried out in the module, once go mod init made it
	realProtoc bool      // protoc is installed: run it rather than compile in process
	ran        bool      // a go run was met: the test builds and vets instead
}

func (r *reader) do(c command) error {
	if len(c.env) > 0 || len(c.args) == 0 {
		return fmt.Errorf("the test does not set variables for a command: teach reader.do (example/internal/docs/install_test.go)")
	}
	switch c.args[0] {
	case "mkdir":
		for _, a := range c.args[1:] {
			if !strings.HasPrefix(a, "-") {
				if err := os.MkdirAll(filepath.Join(r.cwd, a), 0o755); err != nil {
					return err
				}
			}
		}
		return nil
	case "cd":
		r.cwd = filepath.Join(r.cwd, c.args[1])
		return nil
	case "protoc", "protoc-gen-go-retry":
		return generate(r.cwd, c, r.bin, r.realProtoc)
	case "go":
		if len(c.args) > 1 && c.args[1] == "run" {
			r.ran = true // a server: the test builds and vets instead
			return nil
		}
		if _, err := tempmod.Go(r.cwd, c.args[1:]...); err != nil {
			return err
		}
		if len(c.args) > 2 && c.args[1] == "mod" && c.args[2] == "init" {
			return r.madeModule(c)
		}
		return nil
	}
	return fmt.Errorf("the test does not know how to run %s: teach reader.do (example/internal/docs/install_test.go)", c.args[0])
}

// madeModule follows go mod init: the quick start's files are copied in,
// as the README says, and the install commands carried out.
func (r *reader) madeModule(init command) error {
	module, err := copyQuickStart(r.cwd)
	if err != nil {
		return err
	}
	if init.args[len(init.args)-1] != module {
		return fmt.Errorf("the module is %s, but the quick start's code is of %s (%s/go.mod)", init.args[len(init.args)-1], module, quickstart)
	}
	installs := r.installs
	r.installs = nil
	for _, c := range installs {
		if err := r.do(c); err != nil {
			return fmt.Errorf("%v: %v", c, err)
		}
	}
	return nil
}

// The go environment the test started with.
type environment struct {
	modCache, proxy, flags, debug string
}

var startEnv once[environment]

// goEnv returns the go environment the test process started with.
func goEnv(t *testing.T) environment {
	t.Helper()
	return startEnv.get(t, func() (environment, error) {
		out, err := tempmod.Go(".", "env", "GOMODCACHE", "GOPROXY", "GOFLAGS")
		lines := strings.Split(out, "\n")
		if err == nil && len(lines) < 3 {
			err = fmt.Errorf("go env printed %q", out)
		}
		if err != nil {
			return environment{}, err
		}
		return environment{modCache: lines[0], proxy: lines[1], flags: lines[2], debug: os.Getenv("GODEBUG")}, nil
	})
}

// setReaderEnv sets, for the rest of the test, the environment of a
// newcomer who has only Go: a GOPATH of their own, whose bin (GOBIN) is
// first on PATH, no checksum database (the modules of the proxy on disk
// are in none), and vars.
func setReaderEnv(t *testing.T, vars map[string]string) {
	gopath := t.TempDir()
	bin := filepath.Join(gopath, "bin")
	t.Setenv("GOPATH", gopath)
	t.Setenv("GOBIN", bin)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("GOSUMDB", "off")
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

// fileURL returns the file:// URL of the directory dir.
func fileURL(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	abs = filepath.ToSlash(abs)
	if !strings.HasPrefix(abs, "/") {
		abs = "/" + abs // C:/... on Windows
	}
	return "file://" + abs
}
