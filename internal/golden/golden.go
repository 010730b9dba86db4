// Package golden compares generated files with the copies committed in the
// repository. Run the tests with -update to rewrite the copies instead.
package golden

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/pluginpb"
)

var update = flag.Bool("update", false, "rewrite golden files instead of comparing with them")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Check compares each of files with the file of the same name below dir.
func Check(t testing.TB, dir string, files []*pluginpb.CodeGeneratorResponse_File) {
	t.Helper()
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.GetName()))
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(f.GetContent()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%v (run go test -update to create it)", err)
			continue
		}
		if diff := cmp.Diff(string(want), f.GetContent()); diff != "" {
			t.Errorf("%s is stale (-committed +generated); run go test -update:\n%s", path, diff)
		}
	}
}

// CheckTree is Check for a directory that holds nothing but generated files
// with the extension ext: a file there that files does not name is reported
// as left over (and removed with -update).
func CheckTree(t testing.TB, dir, ext string, files []*pluginpb.CodeGeneratorResponse_File) {
	t.Helper()
	Check(t, dir, files)
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, filepath.Join(dir, filepath.FromSlash(f.GetName())))
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ext || slices.Contains(names, path) {
			return err
		}
		if *update {
			return os.Remove(path)
		}
		t.Errorf("%s is no longer generated; run go test -update to remove it", path)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}
