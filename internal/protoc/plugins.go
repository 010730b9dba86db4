package protoc

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"

	gengo "google.golang.org/protobuf/cmd/protoc-gen-go/internal_gengo"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

// ProtocGenGo is protoc-gen-go, run in process at the version of
// google.golang.org/protobuf this module requires.
func ProtocGenGo(req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
	plugin, err := protogen.Options{}.New(req)
	if err != nil {
		return nil, err
	}
	for _, f := range plugin.Files {
		if f.Generate {
			gengo.GenerateFile(plugin, f)
		}
	}
	plugin.SupportedFeatures = gengo.SupportedFeatures
	plugin.SupportedEditionsMinimum = gengo.SupportedEditionsMinimum
	plugin.SupportedEditionsMaximum = gengo.SupportedEditionsMaximum
	return plugin.Response(), nil
}

// Exec returns the plugin binary at path, run as protoc runs it: the request
// on its standard input, the response on its standard output.
func Exec(path string) Plugin {
	return func(req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
		in, err := proto.Marshal(req)
		if err != nil {
			return nil, err
		}
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(path)
		cmd.Stdin = bytes.NewReader(in)
		cmd.Stdout = &stdout
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s: %v: %s", path, err, strings.TrimSpace(stderr.String()))
		}
		resp := new(pluginpb.CodeGeneratorResponse)
		if err := proto.Unmarshal(stdout.Bytes(), resp); err != nil {
			return nil, fmt.Errorf("%s: reading its response: %v", path, err)
		}
		return resp, nil
	}
}
