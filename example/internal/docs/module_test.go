package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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
func buildAndVet(dir, bin string) error {
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

// A once is a value that tests share, made by the first test that needs
// it.
type once[T any] struct {
	once sync.Once
	v    T
	err  error
}

// get returns the value, made by make the first time.
func (o *once[T]) get(t *testing.T, make func() (T, error)) T {
	t.Helper()
	o.once.Do(func() { o.v, o.err = make() })
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.v
}

// sharedDirs are the directories of the values tests share, removed by
// TestMain.
var sharedDirs struct {
	sync.Mutex
	dirs []string
}

// sharedDir makes a directory that lives as long as the test process.
func sharedDir(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err == nil {
		sharedDirs.Lock()
		sharedDirs.dirs = append(sharedDirs.dirs, dir)
		sharedDirs.Unlock()
	}
	return dir, err
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range sharedDirs.dirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

var moduleLineRE = regexp.MustCompile(`(?m)^module\s+"?([^"\s]+)"?\s*$`)

// modulePath returns the module path that the go.mod file at gomod
// declares.
func modulePath(gomod string) (string, error) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	m := moduleLineRE.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s declares no module", gomod)
	}
	return string(m[1]), nil
}
