package docs

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// A published module: this checkout's module at dir (relative to the
// repository root) as it would be published.
type published struct {
	path string // the module path
	dir  string
}

// publishedModules returns the modules a release publishes: the root
// module (the plugin and the options) and the runtime.
func publishedModules() ([]published, error) {
	var mods []published
	for _, dir := range []string{".", "dubboretry"} {
		p, err := modulePath(filepath.Join(repoRoot, dir, "go.mod"))
		if err != nil {
			return nil, err
		}
		mods = append(mods, published{path: p, dir: dir})
	}
	return mods, nil
}

// writeProxy writes below dir a module proxy that serves mods at version,
// as GOPROXY=file://dir: for each, @v/list, and the version's .info, .mod
// and .zip.
func writeProxy(dir, version string, mods []published) error {
	for _, m := range mods {
		if strings.ToLower(m.path) != m.path {
			return fmt.Errorf("%s: writeProxy does not escape the capital letters of module paths", m.path)
		}
		v := filepath.Join(dir, filepath.FromSlash(m.path), "@v")
		if err := os.MkdirAll(v, 0o755); err != nil {
			return err
		}
		gomod, err := os.ReadFile(filepath.Join(repoRoot, m.dir, "go.mod"))
		if err != nil {
			return err
		}
		for name, content := range map[string]string{
			"list":            version + "\n",
			version + ".info": fmt.Sprintf(`{"Version":%q,"Time":"2026-01-01T00:00:00Z"}`, version),
			version + ".mod":  string(gomod),
		} {
			if err := os.WriteFile(filepath.Join(v, name), []byte(content), 0o644); err != nil {
				return err
			}
		}
		if err := writeModuleZip(filepath.Join(v, version+".zip"), m, version); err != nil {
			return err
		}
	}
	return nil
}

// writeModuleZip writes the module zip of m at version, as the go command
// makes it from a directory (golang.org/x/mod/zip.CreateFromDir): every
// regular file, below "<module>@<version>/", but those of version control
// (.git and the like) and of other modules (directories with a go.mod of
// their own: example, bench, dubboretry in the root module).
func writeModuleZip(file string, m published, version string) (err error) {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := zip.NewWriter(f)
	root := filepath.Join(repoRoot, m.dir)
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch d.Name() {
		case ".git", ".hg", ".svn", ".bzr":
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // a worktree's .git is a file
		}
		if d.IsDir() {
			if _, err := os.Lstat(filepath.Join(p, "go.mod")); err == nil && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // symbolic links are left out
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		dst, err := w.Create(path.Join(m.path+"@"+version, filepath.ToSlash(rel)))
		if err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(dst, src)
		return err
	})
	if err != nil {
		return err
	}
	return w.Close()
}
