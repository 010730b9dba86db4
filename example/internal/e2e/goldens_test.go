package e2e

import (
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
)

const (
	goldenDir    = "../../../testdata/golden"
	goldenModule = "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden"
	// dubboVersion is the dubbo-go these tests hold the generated code to.
	dubboVersion = "v3.3.2"
)

// TestGoldensVet builds and vets every package of testdata/golden against
// the dubbo-go of this module, the same way a user's build would.
func TestGoldensVet(t *testing.T) {
	var pkgs []string
	err := filepath.WalkDir(goldenDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".go" {
			return err
		}
		rel, err := filepath.Rel(goldenDir, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := path.Join(goldenModule, filepath.ToSlash(rel))
		if !slices.Contains(pkgs, pkg) {
			pkgs = append(pkgs, pkg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 5 {
		t.Fatalf("found %d golden packages in %s, want at least 5: %v", len(pkgs), goldenDir, pkgs)
	}
	// go vet only type-checks; go build runs the compiler, which also
	// refuses what the type checker allows, such as a misplaced directive.
	for _, verb := range []string{"build", "vet"} {
		if _, err := tempmod.Go(".", append([]string{verb}, pkgs...)...); err != nil {
			t.Error(err)
		}
	}
}

// TestDubboVersion checks that the tests run against the dubbo-go version
// the project targets, not whatever a go.mod edit pulled in.
func TestDubboVersion(t *testing.T) {
	out, err := tempmod.Go(".", "list", "-m", "-f", "{{.Version}}", "dubbo.apache.org/dubbo-go/v3")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out); got != dubboVersion {
		t.Errorf("the tests build against dubbo-go %s, want %s", got, dubboVersion)
	}
}
