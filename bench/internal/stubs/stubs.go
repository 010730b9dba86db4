// Package stubs generates the bench module's Go code from its .proto files
// (proto/), compiled in process, with three plugins built from source: protoc-gen-go
// and protoc-gen-go-grpc at the versions the bench module pins as tools
// (go.mod), and protoc-gen-go-retry from this repository (the replace
// line of go.mod), so that the stubs are what the plugin generates now.
// cmd/regen writes them; a test checks that the committed ones are current.
package stubs

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// Sources are the .proto files, relative to ProtoDir.
var Sources = []string{"peers/v1/peers.proto", "hedge/v1/hedge.proto"}

// ProtoDir is the directory of the .proto files and of what they generate,
// relative to the bench module's root.
const ProtoDir = "proto"

// plugins are the plugins that generate the code, by protoc's name of
// them (protoc-gen-NAME), and their Go packages.
var plugins = []struct{ name, pkg string }{
	{"go", "google.golang.org/protobuf/cmd/protoc-gen-go"},
	{"go-grpc", "google.golang.org/grpc/cmd/protoc-gen-go-grpc"},
	{"go-retry", "github.com/dubbo-retry/protoc-gen-go-retry/cmd/protoc-gen-go-retry"},
}

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

// Generate builds the plugins and runs them on Sources, compiled in
// process as protoc would (internal/protoc: no protoc binary is needed), in
// the bench module whose root is dir, and returns the files written, by
// their path relative to ProtoDir (paths=source_relative).
func Generate(dir string) (map[string][]byte, error) {
	req, err := protoc.Request([]string{filepath.Join(dir, ProtoDir)}, Sources, "paths=source_relative")
	if err != nil {
		return nil, err
	}
	bin, err := os.MkdirTemp("", "bench-stubs")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bin)
	build := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, p := range plugins {
		build = append(build, p.pkg)
	}
	if _, err := goCmd(dir, build...); err != nil {
		return nil, err
	}
	files := make(map[string][]byte)
	for _, p := range plugins {
		out, err := protoc.Run(req, protoc.Exec(filepath.Join(bin, path.Base(p.pkg))))
		if err != nil {
			return nil, fmt.Errorf("protoc-gen-%s: %v", p.name, err)
		}
		for _, f := range out {
			files[f.GetName()] = []byte(f.GetContent())
		}
	}
	return files, nil
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
