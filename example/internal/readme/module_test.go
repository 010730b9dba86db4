package readme

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds a go command: the first build of dubbo-go, on a cold
// cache, takes minutes.
const buildTimeout = 10 * time.Minute

// goCmd runs the go command in dir and returns its standard output; its
// error holds the standard error.
func goCmd(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCommand(), args...)
	cmd.Dir = dir
	// The temporary modules stand alone, as a user's would.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, stderr.Bytes())
	}
	return stdout.String(), nil
}

// goCommand is the go command that runs the tests.
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// newModule makes dir the root of a module named path that requires what
// the example module requires, at the same versions, with this repository
// as github.com/dubbo-retry/protoc-gen-go-retry (and its dubboretry): what a
// user's module holds after go get and go mod tidy, with nothing to
// download.
func newModule(t *testing.T, dir, path string) {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "example", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := goCmd(t, dir, "mod", "edit", "-module", path,
		"-replace", "github.com/dubbo-retry/protoc-gen-go-retry="+root,
		"-replace", "github.com/dubbo-retry/protoc-gen-go-retry/dubboretry="+filepath.Join(root, "dubboretry")); err != nil {
		t.Fatal(err)
	}
}

// buildAndVet builds and vets every package of the module in dir, and
// writes its commands to bin, if not empty.
func buildAndVet(t *testing.T, dir, bin string) error {
	t.Helper()
	build := []string{"build"}
	if bin != "" {
		build = append(build, "-o", bin+string(filepath.Separator))
	}
	for _, args := range [][]string{append(build, "./..."), {"vet", "./..."}} {
		if _, err := goCmd(t, dir, args...); err != nil {
			return err
		}
	}
	return nil
}

var pluginBinary struct {
	once sync.Once
	dir  string // removed by TestMain
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pluginBinary.dir != "" {
		os.RemoveAll(pluginBinary.dir)
	}
	os.Exit(code)
}

// plugin builds protoc-gen-go-retry from source, once, and returns its path.
func plugin(t *testing.T) string {
	t.Helper()
	pluginBinary.once.Do(func() {
		pluginBinary.dir, pluginBinary.err = os.MkdirTemp("", "readme-plugin")
		if pluginBinary.err != nil {
			return
		}
		pluginBinary.path = filepath.Join(pluginBinary.dir, "protoc-gen-go-retry")
		_, pluginBinary.err = goCmd(t, ".", "build", "-o", pluginBinary.path,
			"github.com/dubbo-retry/protoc-gen-go-retry/cmd/protoc-gen-go-retry")
	})
	if pluginBinary.err != nil {
		t.Fatalf("building protoc-gen-go-retry: %v", pluginBinary.err)
	}
	return pluginBinary.path
}
