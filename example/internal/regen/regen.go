// Package regen generates the example's Go code from proto/greet.proto as
// buf or protoc would, with protoc-gen-go and protoc-gen-go-retry built from
// source, but with no protoc: the .proto is compiled in process.
package regen

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"

	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// Source is the example's .proto file, relative to its proto directory.
const Source = "greet.proto"

// plugins are the Go packages of the plugins that generate the example's
// code, in the order buf.gen.yaml runs them.
var plugins = []string{
	"google.golang.org/protobuf/cmd/protoc-gen-go",
	"github.com/dubbo-retry/protoc-gen-go-retry/cmd/protoc-gen-go-retry",
}

// Files builds the plugins from source and returns what they generate for
// Source in protoDir, named relative to protoDir (paths=source_relative).
// protoDir must be inside the example module, whose go.mod picks the
// plugins' versions.
func Files(protoDir string) ([]*pluginpb.CodeGeneratorResponse_File, error) {
	bin, err := os.MkdirTemp("", "regen")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bin)

	req, err := protoc.Request([]string{protoDir}, []string{Source}, "paths=source_relative")
	if err != nil {
		return nil, err
	}
	var files []*pluginpb.CodeGeneratorResponse_File
	for _, pkg := range plugins {
		exe := filepath.Join(bin, path.Base(pkg))
		build := exec.Command("go", "build", "-o", exe, pkg)
		build.Dir = protoDir
		if out, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
		out, err := protoc.Run(req, protoc.Exec(exe))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path.Base(pkg), err)
		}
		files = append(files, out...)
	}
	return files, nil
}
