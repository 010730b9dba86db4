package docs

import (
	"path/filepath"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
)

var pluginBinaries once[string]

// plugins builds protoc-gen-go-retry from source, and protoc-gen-go at the
// version of google.golang.org/protobuf the root module requires, once,
// into a directory of their own, and returns it: put it on PATH for protoc
// and buf.
func plugins(t *testing.T) string {
	t.Helper()
	return pluginBinaries.get(t, func() (string, error) {
		dir, err := sharedDir("docs-plugins")
		if err != nil {
			return "", err
		}
		if _, err := tempmod.BuildPlugin(dir); err != nil {
			return "", err
		}
		_, err = tempmod.Go(repoRoot, "build", "-o", filepath.Join(dir, "protoc-gen-go"), "google.golang.org/protobuf/cmd/protoc-gen-go")
		return dir, err
	})
}

// plugin returns the path of protoc-gen-go-retry, built from source.
func plugin(t *testing.T) string {
	t.Helper()
	return filepath.Join(plugins(t), "protoc-gen-go-retry")
}
