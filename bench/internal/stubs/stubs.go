// Package stubs generates the bench module's Go code from its .proto files
// (proto/) with protoc and three plugins built from source: protoc-gen-go
// and protoc-gen-go-grpc at the versions the bench module pins as tools
// (go.mod), and protoc-gen-go-retry from this repository (the replace
// line of go.mod), so that the stubs are what the plugin generates now.
// cmd/regen writes them; a test checks that the committed ones are current.
package stubs

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// Sources are the .proto files, relative to ProtoDir.
var Sources = []string{"peers/v1/peers.proto", "hedge/v1/hedge.proto"}

// ProtoDir is the directory of the .proto files and of what they generate,
// relative to the bench module's root.
const ProtoDir = "proto"

// plugins are the plugins that generate the code, by protoc's name of
// them (--NAME_out), and their Go packages.
var plugins = []struct{ name, pkg string }{
	{"go", "google.golang.org/protobuf/cmd/protoc-gen-go"},
	{"go-grpc", "google.golang.org/grpc/cmd/protoc-gen-go-grpc"},
	{"go-retry", "github.com/dubbo-retry/protoc-gen-go-retry/cmd/protoc-gen-go-retry"},
}

// rootModule is the module that holds the plugin and retry/v1/retry.proto.
const rootModule = "github.com/dubbo-retry/protoc-gen-go-retry"

// ModuleDir returns the bench module's root: the directory of the go.mod
// that the go command finds from the current directory.
func ModuleDir() (string, error) {
	out, err := goCmd("", "env", "GOMOD")
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(out)
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not in a module: run from the bench module")
	}
	return filepath.Dir(mod), nil
}

// Generate builds the plugins and runs protoc on Sources, in the bench
// module whose root is dir, and returns the files written, by their path
// relative to ProtoDir (paths=source_relative).
func Generate(dir string) (map[string][]byte, error) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		return nil, fmt.Errorf("protoc is needed to generate the stubs (apt-get install protobuf-compiler): %v", err)
	}
	root, err := goCmd(dir, "list", "-m", "-f", "{{.Dir}}", rootModule)
	if err != nil {
		return nil, err
	}
	options := filepath.Join(strings.TrimSpace(root), "options")

	tmp, err := os.MkdirTemp("", "bench-stubs")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin, out := filepath.Join(tmp, "bin"), filepath.Join(tmp, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		return nil, err
	}
	build := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, p := range plugins {
		build = append(build, p.pkg)
	}
	if _, err := goCmd(dir, build...); err != nil {
		return nil, err
	}

	args := []string{"-I", ProtoDir, "-I", options}
	for _, p := range plugins {
		args = append(args,
			"--plugin=protoc-gen-"+p.name+"="+filepath.Join(bin, path.Base(p.pkg)),
			"--"+p.name+"_out="+out,
			"--"+p.name+"_opt=paths=source_relative",
		)
	}
	args = append(args, Sources...)
	cmd := exec.Command(protoc, args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("protoc %s: %v\n%s", strings.Join(args, " "), err, b)
	}

	files := make(map[string][]byte)
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(out, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	return files, err
}

// Write writes files, as Generate returns them, under ProtoDir of the
// bench module whose root is dir.
func Write(dir string, files map[string][]byte) error {
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, ProtoDir, filepath.FromSlash(name)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// protocVersion matches the line of a generated file's header that names
// protoc's version, which differs from one machine to the next.
var protocVersion = regexp.MustCompile(`(?m)^(//\s*-?\s*protoc\s+)\S.*$`)

// Same reports whether two generated files are the same but for the
// version of protoc their headers name.
func Same(a, b []byte) bool {
	mask := []byte("${1}(any)")
	return bytes.Equal(protocVersion.ReplaceAll(a, mask), protocVersion.ReplaceAll(b, mask))
}

// goCmd runs the go command in dir and returns its standard output.
func goCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out), nil
}
