// Package protoc does in process what protoc does for its plugins: it compiles
// .proto files, builds the CodeGeneratorRequest that protoc would send, runs
// plugins on it and writes the files they return.
//
// Tests, benchmarks and the example's regeneration use it so that nothing
// needs a protoc binary. "retry/v1/retry.proto" is always importable: it is
// served from the copy bundled in package options.
package protoc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/options"
)

// Request compiles files, named relative to one of importPaths as protoc
// names them, and returns the request protoc would send a plugin invoked with
// parameter. Errors name the file, line and column, as protoc's do.
func Request(importPaths []string, files []string, parameter string) (*pluginpb.CodeGeneratorRequest, error) {
	compiler := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(protocompile.CompositeResolver{
			&protocompile.SourceResolver{ImportPaths: importPaths},
			&protocompile.SourceResolver{Accessor: func(path string) (io.ReadCloser, error) {
				return options.FS.Open(path)
			}},
		}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	compiled, err := compiler.Compile(context.Background(), files...)
	if err != nil {
		return nil, err
	}
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: files}
	if parameter != "" {
		req.Parameter = proto.String(parameter)
	}
	targets := make(map[string]bool, len(files))
	for _, f := range files {
		targets[f] = true
	}
	seen := make(map[string]bool)
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := range imports.Len() {
			add(imports.Get(i).FileDescriptor)
		}
		fdp := fileProto(fd)
		if !targets[fd.Path()] {
			// protoc sends source info only for the files to generate.
			fdp.SourceCodeInfo = nil
		}
		req.ProtoFile = append(req.ProtoFile, fdp)
	}
	for _, f := range compiled {
		add(f)
	}
	return roundTrip(req)
}

// fileProto returns the descriptor proto of fd, as parsed when it was
// compiled from source.
func fileProto(fd protoreflect.FileDescriptor) *descriptorpb.FileDescriptorProto {
	if r, ok := fd.(linker.Result); ok {
		return proto.Clone(r.FileDescriptorProto()).(*descriptorpb.FileDescriptorProto)
	}
	return protodesc.ToFileDescriptorProto(fd)
}

// roundTrip marshals req and parses it again, as protoc's pipe to a plugin
// does. protocompile leaves custom options as dynamic messages; after the
// round trip they are the Go types linked into this binary, as a plugin run
// by protoc sees them.
func roundTrip(req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorRequest, error) {
	b, err := proto.Marshal(req)
	if err != nil {
		return nil, err
	}
	out := new(pluginpb.CodeGeneratorRequest)
	if err := proto.Unmarshal(b, out); err != nil {
		return nil, err
	}
	return out, nil
}

// A Plugin is a protoc plugin: it answers a request with generated files or
// an error in the response. A non-nil error means the plugin itself failed,
// as a plugin that exits non-zero does.
type Plugin func(*pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error)

// Run runs plugin on req and returns the files it generated, or the error it
// reported.
func Run(req *pluginpb.CodeGeneratorRequest, plugin Plugin) ([]*pluginpb.CodeGeneratorResponse_File, error) {
	resp, err := plugin(req)
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, errors.New(resp.GetError())
	}
	return resp.File, nil
}

// Write writes files below dir, as protoc does with a plugin's output.
func Write(dir string, files []*pluginpb.CodeGeneratorResponse_File) error {
	for _, f := range files {
		if f.GetInsertionPoint() != "" {
			return fmt.Errorf("%s: insertion points are not supported", f.GetName())
		}
		name := filepath.FromSlash(f.GetName())
		if !filepath.IsLocal(name) {
			return fmt.Errorf("%s: file name is outside the output directory", f.GetName())
		}
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(f.GetContent()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
