package readme

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
)

// newModule makes dir the root of a module named path that requires what
// the example module requires, with this repository for
// protoc-gen-go-retry (tempmod.New).
func newModule(t *testing.T, dir, path string) {
	t.Helper()
	if err := tempmod.New(dir, path, repoRoot); err != nil {
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
		if _, err := tempmod.Go(dir, args...); err != nil {
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
		if pluginBinary.err == nil {
			pluginBinary.path, pluginBinary.err = tempmod.BuildPlugin(pluginBinary.dir)
		}
	})
	if pluginBinary.err != nil {
		t.Fatal(pluginBinary.err)
	}
	return pluginBinary.path
}
