package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/gen"
)

// run answers the CodeGeneratorRequest read from in with the response
// written to out. Problems in the request's contents (bad options, bad
// parameters) go in the response, for protoc to print; an error from run
// means there was no request to answer.
func run(in io.Reader, out io.Writer) error {
	b, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("reading standard input: %v", err)
	}
	req := new(pluginpb.CodeGeneratorRequest)
	if err := proto.Unmarshal(b, req); err != nil {
		return fmt.Errorf("standard input is not a CodeGeneratorRequest: %v", err)
	}
	// Arbitrary bytes often parse, as a message of unknown fields. (Unknown
	// fields alone are no sign of garbage: a newer protoc may send fields
	// this plugin does not know.)
	if len(req.GetFileToGenerate()) == 0 {
		return errors.New("standard input is not a CodeGeneratorRequest from protoc or buf: it names no file to generate")
	}
	resp := generate(req)
	b, err = proto.Marshal(resp)
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err
}

// generate runs the generator on req. Everything wrong with the request is
// reported in the response's error, and then the response holds no file.
func generate(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorResponse {
	var flags flag.FlagSet
	maxRetries := retriesValue(gen.DefaultMaxRetries)
	flags.Var(&maxRetries, "max_retries", "the largest retries an option may declare")
	var publish boolValue
	flags.Var(&publish, "publish_defaults", "providers publish the .proto's retries and timeouts on their URLs")

	plugin, err := protogen.Options{ParamFunc: params(&flags)}.New(req)
	if err != nil {
		// The features and editions go with the error, as in protogen's
		// responses, so that protoc reports the error and not a lack of
		// support for the file's edition.
		return &pluginpb.CodeGeneratorResponse{
			Error:             proto.String(err.Error()),
			SupportedFeatures: proto.Uint64(gen.SupportedFeatures),
			MinimumEdition:    proto.Int32(int32(gen.SupportedEditionsMinimum)),
			MaximumEdition:    proto.Int32(int32(gen.SupportedEditionsMaximum)),
		}
	}
	files, err := gen.Generate(plugin, gen.Config{Version: version, MaxRetries: uint32(maxRetries), PublishDefaults: bool(publish)})
	if err != nil {
		plugin.Error(err)
	}
	resp := plugin.Response()
	if resp.Error == nil {
		resp.File = append(resp.File, files...)
	}
	return resp
}

// params returns protogen's ParamFunc: it sets the plugin's own parameters
// (protogen handles paths, module and M) and names the parameter in every
// error.
func params(flags *flag.FlagSet) func(name, value string) error {
	return func(name, value string) error {
		if flags.Lookup(name) == nil {
			return fmt.Errorf("unknown parameter %q: protoc-gen-go-retry takes paths, module, M<file>=<package>, max_retries and publish_defaults", name)
		}
		if err := flags.Set(name, value); err != nil {
			return fmt.Errorf("parameter %s=%s: %v", name, value, err)
		}
		return nil
	}
}

// retriesValue is a flag.Value for a count of retries.
type retriesValue uint32

func (v *retriesValue) String() string { return strconv.FormatUint(uint64(*v), 10) }

func (v *retriesValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return errors.New("want a whole number from 0 to 2147483647")
	}
	*v = retriesValue(n)
	return nil
}

// boolValue is a flag.Value for a parameter that is on or off. Given
// without a value (publish_defaults, which protogen hands on with the value
// ""), it is on.
type boolValue bool

func (v *boolValue) String() string { return strconv.FormatBool(bool(*v)) }

func (v *boolValue) Set(s string) error {
	if s == "" {
		s = "true"
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	*v = boolValue(b)
	return nil
}
