package docs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
)

// The quick start generated with buf, as the README says: in a fresh copy,
// the same protoc-gen-go-retry --write-options as generate.sh's, then buf
// generate with the quick start's buf.yaml and buf.gen.yaml, with buf
// v1.75.0 (tools/buf.go.mod) and the plugins on PATH. What it generates
// must be what the protoc route generates, byte for byte; TestQuickStart
// builds, vets and runs that.
func TestQuickStartWithBuf(t *testing.T) {
	want := protocRoute(t)
	bin := plugins(t)
	dir := t.TempDir()
	if _, err := copyQuickStart(dir); err != nil {
		t.Fatal(err)
	}
	// go tool reads the go.mod -modfile names, but needs one where it runs.
	gomod, err := os.ReadFile(filepath.Join(repoRoot, quickstart, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), gomod, 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := generateScript()
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := script.commands()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		if c.args[0] == "protoc-gen-go-retry" {
			if err := generate(dir, c, bin, false); err != nil {
				t.Fatalf("%v: %v", c, err)
			}
		}
	}
	bufMod, err := filepath.Abs(filepath.Join(repoRoot, "tools", "buf.go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if _, err := tempmod.Go(dir, "tool", "-modfile="+bufMod, "buf", "generate"); err != nil {
		t.Fatal(err)
	}
	if err := sameFiles(want.dir, dir, want.files); err != nil {
		t.Error(err)
	}
}
