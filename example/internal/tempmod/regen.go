package tempmod

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// GreetProto is the example's .proto file, relative to its proto
// directory, which Regenerate generates from.
const GreetProto = "greet.proto"

// plugins are the Go packages of the plugins that generate the example's
// code, in the order buf.gen.yaml runs them.
var plugins = []string{
	"google.golang.org/protobuf/cmd/protoc-gen-go",
	"github.com/dubbo-retry/protoc-gen-go-retry/cmd/protoc-gen-go-retry",
}

// Regenerate generates the example's Go code from GreetProto as buf or
// protoc would, with protoc-gen-go and protoc-gen-go-retry built from
// source, but with no protoc: the .proto is compiled in process. It
// returns what the plugins generate for GreetProto in protoDir, named
// relative to protoDir (paths=source_relative). protoDir must be inside
// the example module, whose go.mod picks the plugins' versions.
func Regenerate(protoDir string) ([]*pluginpb.CodeGeneratorResponse_File, error) {
	bin, err := os.MkdirTemp("", "regen")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bin)

	req, err := protoc.Request([]string{protoDir}, []string{GreetProto}, "paths=source_relative")
	if err != nil {
		return nil, err
	}
	var files []*pluginpb.CodeGeneratorResponse_File
	for _, pkg := range plugins {
		exe := filepath.Join(bin, path.Base(pkg))
		if _, err := Go(protoDir, "build", "-o", exe, pkg); err != nil {
			return nil, err
		}
		out, err := protoc.Run(req, protoc.Exec(exe))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path.Base(pkg), err)
		}
		files = append(files, out...)
	}
	return files, nil
}
