package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// publishedModCache prepares the module cache of the published install
// route, holding nothing of mods at version, locks it until the test ends,
// and returns the go environment that uses it.
//
// The route needs a module cache of its own: the modules it publishes as a
// version (v0.3.0) are this checkout, which a cache keeps for good. In a
// fresh cache, though, every module would be extracted again, and since
// the go command keys its build cache on a package's directory, dubbo-go
// compiled and vetted again, minutes on every run. So the cache lives in
// the user's cache directory, where the other modules stay from run to
// run, and the route removes this checkout's modules from it before it
// runs (and a lock keeps other runs out meanwhile). The go command's index
// of a module in the cache is keyed on its directory alone, as a module
// there never changes: the route turns the index off (GODEBUG=goindex=0),
// or it would read the files of the last run's modules.
func publishedModCache(t *testing.T, mods []published, version string, env environment) map[string]string {
	t.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "protoc-gen-go-retry-docs-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	unlock, err := lock(filepath.Join(dir, "lock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	cache := filepath.Join(dir, "mod")
	for _, m := range mods {
		for _, p := range []string{
			filepath.Join(cache, filepath.FromSlash(m.path)+"@"+version),
			filepath.Join(cache, "cache", "download", filepath.FromSlash(m.path), "@v"),
		} {
			if err := removeAll(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	return map[string]string{
		"GOMODCACHE": cache,
		"GOFLAGS":    strings.TrimSpace(env.flags + " -modcacherw"),
		"GODEBUG":    strings.TrimPrefix(env.debug+",goindex=0", ","),
	}
}

// removeAll removes the directory p of the module cache, which the go
// command makes read-only. (The route runs with -modcacherw, but a copy
// may come from a run without it.)
func removeAll(p string) error {
	filepath.WalkDir(p, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(p)
}
