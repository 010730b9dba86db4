// Package fuzzcases holds the mutations of the fuzz targets of
// cmd/protoc-gen-go-retry (fuzz_test.go) as ordinary code, so that other
// tests can generate from the same inputs: the example module builds a
// sample of what they generate against dubbo-go (example/internal/fuzzbuild).
//
// The fuzz targets mutate greet/greet.proto's request in two ways:
// FuzzGenerate starts from Variants of it, FuzzDescriptor applies a
// DescriptorInput to it. Random draws DescriptorInputs the way the fuzzing
// engine's mutations reach them, from a seed, for tests that cannot fuzz.
package fuzzcases

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

// BaseFile is the file whose request the fuzz targets mutate, below
// testdata/proto.
const BaseFile = "greet/greet.proto"

// BaseRequest compiles BaseFile of protoDir (testdata/proto) into the
// request protoc would send with parameter.
func BaseRequest(protoDir, parameter string) (*pluginpb.CodeGeneratorRequest, error) {
	return protoc.Request([]string{protoDir}, []string{BaseFile}, parameter)
}

// Variants change a request of greet/greet.proto in the ways the generator
// cares about; each is one seed of FuzzGenerate.
var Variants = []func(*pluginpb.CodeGeneratorRequest){
	// Every idempotency level on every method.
	func(req *pluginpb.CodeGeneratorRequest) {
		ForEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) {
			MethodOpts(m).IdempotencyLevel = descriptorpb.MethodOptions_IDEMPOTENT.Enum()
		})
	},
	func(req *pluginpb.CodeGeneratorRequest) {
		ForEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) {
			MethodOpts(m).IdempotencyLevel = descriptorpb.MethodOptions_NO_SIDE_EFFECTS.Enum()
		})
	},
	func(req *pluginpb.CodeGeneratorRequest) {
		ForEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) { MethodOpts(m).IdempotencyLevel = nil })
	},
	// Streaming flipped: the method options land on streaming methods.
	func(req *pluginpb.CodeGeneratorRequest) {
		ForEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) {
			m.ClientStreaming = proto.Bool(!m.GetClientStreaming())
		})
	},
	func(req *pluginpb.CodeGeneratorRequest) {
		ForEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) {
			m.ServerStreaming = proto.Bool(!m.GetServerStreaming())
		})
	},
	// An option on every unary method, and none anywhere.
	func(req *pluginpb.CodeGeneratorRequest) {
		ForEachUnary(req, func(m *descriptorpb.MethodDescriptorProto) {
			proto.SetExtension(MethodOpts(m), retryv1.E_Method, &retryv1.MethodRetry{Retries: proto.Uint32(7)})
		})
	},
	func(req *pluginpb.CodeGeneratorRequest) {
		fd := FileToGenerate(req)
		proto.ClearExtension(fd.Options, retryv1.E_File)
		for _, s := range fd.Service {
			if s.Options != nil {
				proto.ClearExtension(s.Options, retryv1.E_Service)
			}
		}
		ForEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) { proto.ClearExtension(MethodOpts(m), retryv1.E_Method) })
	},
	// Options that set no retries.
	func(req *pluginpb.CodeGeneratorRequest) {
		fd := FileToGenerate(req)
		proto.SetExtension(fd.Options, retryv1.E_File, &retryv1.FileRetry{IdempotentOnly: proto.Bool(true)})
		for _, s := range fd.Service {
			if s.Options == nil {
				s.Options = new(descriptorpb.ServiceOptions)
			}
			proto.SetExtension(s.Options, retryv1.E_Service, &retryv1.ServiceRetry{IdempotentOnly: proto.Bool(true)})
		}
		ForEachUnary(req, func(m *descriptorpb.MethodDescriptorProto) {
			proto.SetExtension(MethodOpts(m), retryv1.E_Method, &retryv1.MethodRetry{})
		})
	},
	// Retries at the cap and above it.
	func(req *pluginpb.CodeGeneratorRequest) {
		fd := FileToGenerate(req)
		proto.SetExtension(fd.Options, retryv1.E_File, &retryv1.FileRetry{Retries: proto.Uint32(1 << 31)})
		ForEachUnary(req, func(m *descriptorpb.MethodDescriptorProto) {
			proto.SetExtension(MethodOpts(m), retryv1.E_Method, &retryv1.MethodRetry{Retries: proto.Uint32(10)})
		})
	},
	// Each method option written twice, as the wire format allows: the
	// occurrences merge, and the last retries wins.
	func(req *pluginpb.CodeGeneratorRequest) {
		ForEachUnary(req, func(m *descriptorpb.MethodDescriptorProto) {
			SetRawOption(MethodOpts(m), retryv1.E_Method, true, []byte{8, 4})
			o := MethodOpts(m).ProtoReflect()
			o.SetUnknown(protowire.AppendBytes(protowire.AppendTag(o.GetUnknown(), retryv1.E_Method.TypeDescriptor().Number(), protowire.BytesType), []byte{8, 1}))
		})
	},
	// No source info: errors without positions.
	func(req *pluginpb.CodeGeneratorRequest) {
		FileToGenerate(req).SourceCodeInfo = nil
		req.Parameter = proto.String("max_retries=0")
	},
	// Names that collide with Go keywords, the generated locals and the
	// names the generated code declares.
	func(req *pluginpb.CodeGeneratorRequest) {
		fd := FileToGenerate(req)
		fd.Service[0].Name = proto.String("type")
		fd.Service[1].Name = proto.String("typeImpl")
		for i, name := range []string{"String", "ctx", "Conn", "req_", "_x", "X_", "opts"} {
			fd.Service[0].Method[i].Name = proto.String(name)
		}
	},
	// A package named like a generated local, in its own Go package.
	func(req *pluginpb.CodeGeneratorRequest) {
		fd := FileToGenerate(req)
		fd.Options.GoPackage = proto.String("example.com/ctx;ctx")
		req.Parameter = proto.String("paths=source_relative")
	},
	// protoc's version, and a deprecated file.
	func(req *pluginpb.CodeGeneratorRequest) {
		req.CompilerVersion = &pluginpb.Version{Major: proto.Int32(5), Minor: proto.Int32(29), Patch: proto.Int32(3), Suffix: proto.String("rc1")}
		FileToGenerate(req).Options.Deprecated = proto.Bool(true)
	},
}

// FileToGenerate returns the last file of req, the one to generate.
func FileToGenerate(req *pluginpb.CodeGeneratorRequest) *descriptorpb.FileDescriptorProto {
	return req.ProtoFile[len(req.ProtoFile)-1]
}

// ForEachMethod calls fn on every method of the file to generate.
func ForEachMethod(req *pluginpb.CodeGeneratorRequest, fn func(*descriptorpb.MethodDescriptorProto)) {
	for _, s := range FileToGenerate(req).Service {
		for _, m := range s.Method {
			fn(m)
		}
	}
}

// ForEachUnary calls fn on every unary method of the file to generate.
func ForEachUnary(req *pluginpb.CodeGeneratorRequest, fn func(*descriptorpb.MethodDescriptorProto)) {
	ForEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) {
		if !m.GetClientStreaming() && !m.GetServerStreaming() {
			fn(m)
		}
	})
}

// MethodOpts returns the options of m, creating them if need be.
func MethodOpts(m *descriptorpb.MethodDescriptorProto) *descriptorpb.MethodOptions {
	if m.Options == nil {
		m.Options = new(descriptorpb.MethodOptions)
	}
	return m.Options
}

// A DescriptorInput is one input of FuzzDescriptor, applied to the first
// service of greet/greet.proto and one of its methods. Its fields are the
// arguments of the fuzz function, in order.
type DescriptorInput struct {
	Path, Pkg, GoPackage           string
	Service, Method, Comment       string
	MethodOpt, ServiceOpt, FileOpt []byte
	Flags                          uint16
	Param, Suffix                  string
}

// Bits of DescriptorInput.Flags. The low two bits are the method's
// idempotency_level; the top four choose the method.
const (
	FlagClientStreaming uint16 = 1 << (iota + 2)
	FlagServerStreaming
	FlagMethodOpt
	FlagServiceOpt
	FlagFileOpt
	FlagDeprecated
	FlagNoSourceInfo
	FlagCompilerVersion
	FlagNoRoundTrip
	FlagMethodShift = 12
)

// DescriptorInputOf returns the input whose fields are args, the arguments
// of FuzzDescriptor's fuzz function in order, as a corpus file holds them.
func DescriptorInputOf(args []any) (DescriptorInput, error) {
	var in DescriptorInput
	strs := []*string{&in.Path, &in.Pkg, &in.GoPackage, &in.Service, &in.Method, &in.Comment}
	blobs := []*[]byte{&in.MethodOpt, &in.ServiceOpt, &in.FileOpt}
	tail := []*string{&in.Param, &in.Suffix}
	if len(args) != len(strs)+len(blobs)+1+len(tail) {
		return in, fmt.Errorf("%d arguments, want %d", len(args), len(strs)+len(blobs)+1+len(tail))
	}
	ok := true
	for i, p := range strs {
		*p, ok = args[i].(string)
		if !ok {
			return in, fmt.Errorf("argument %d is %T, want string", i, args[i])
		}
	}
	for i, p := range blobs {
		*p, ok = args[len(strs)+i].([]byte)
		if !ok {
			return in, fmt.Errorf("argument %d is %T, want []byte", len(strs)+i, args[len(strs)+i])
		}
	}
	if in.Flags, ok = args[len(strs)+len(blobs)].(uint16); !ok {
		return in, fmt.Errorf("argument %d is %T, want uint16", len(strs)+len(blobs), args[len(strs)+len(blobs)])
	}
	for i, p := range tail {
		n := len(strs) + len(blobs) + 1 + i
		if *p, ok = args[n].(string); !ok {
			return in, fmt.Errorf("argument %d is %T, want string", n, args[n])
		}
	}
	return in, nil
}

// Apply returns a copy of base, the request of greet/greet.proto, changed
// as in says.
func (in DescriptorInput) Apply(base *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorRequest {
	req := proto.CloneOf(base)
	fd := FileToGenerate(req)
	svc := fd.Service[0]
	i := int(in.Flags>>FlagMethodShift) % len(svc.Method)
	m := svc.Method[i]

	fd.Name = proto.String(in.Path)
	req.FileToGenerate = []string{in.Path}
	// Rename the package, and the references to its messages with it.
	prefix := "." + fd.GetPackage() + "."
	fd.Package = proto.String(in.Pkg)
	for _, s := range fd.Service {
		for _, m := range s.Method {
			m.InputType = proto.String(QualifyName(in.Pkg, strings.TrimPrefix(m.GetInputType(), prefix)))
			m.OutputType = proto.String(QualifyName(in.Pkg, strings.TrimPrefix(m.GetOutputType(), prefix)))
		}
	}
	fd.Options.GoPackage = proto.String(in.GoPackage)
	svc.Name = proto.String(in.Service)
	m.Name = proto.String(in.Method)

	opts := MethodOpts(m)
	opts.IdempotencyLevel = descriptorpb.MethodOptions_IdempotencyLevel(in.Flags & 3).Enum()
	m.ClientStreaming = proto.Bool(in.Flags&FlagClientStreaming != 0)
	m.ServerStreaming = proto.Bool(in.Flags&FlagServerStreaming != 0)
	SetRawOption(opts, retryv1.E_Method, in.Flags&FlagMethodOpt != 0, in.MethodOpt)
	if svc.Options == nil {
		svc.Options = new(descriptorpb.ServiceOptions)
	}
	SetRawOption(svc.Options, retryv1.E_Service, in.Flags&FlagServiceOpt != 0, in.ServiceOpt)
	SetRawOption(fd.Options, retryv1.E_File, in.Flags&FlagFileOpt != 0, in.FileOpt)
	if in.Flags&FlagDeprecated != 0 {
		fd.Options.Deprecated = proto.Bool(true)
		svc.Options.Deprecated = proto.Bool(true)
		opts.Deprecated = proto.Bool(true)
	}

	for _, loc := range fd.GetSourceCodeInfo().GetLocation() {
		if slices.Equal(loc.Path, []int32{6, 0}) || slices.Equal(loc.Path, []int32{6, 0, 2, int32(i)}) {
			loc.LeadingComments = proto.String(in.Comment)
		}
	}
	if in.Flags&FlagNoSourceInfo != 0 {
		fd.SourceCodeInfo = nil
	}
	if in.Flags&FlagCompilerVersion != 0 {
		req.CompilerVersion = &pluginpb.Version{Major: proto.Int32(5), Minor: proto.Int32(29), Patch: proto.Int32(3), Suffix: proto.String(in.Suffix)}
	}
	req.Parameter = proto.String(in.Param)
	return req
}

// Request returns the request that FuzzDescriptor gives the generator for
// in: Apply's, sent through protoc's pipe unless in says not to. It
// returns nil when the request does not survive the pipe, an input
// FuzzDescriptor skips.
func (in DescriptorInput) Request(base *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorRequest {
	req := in.Apply(base)
	if in.Flags&FlagNoRoundTrip == 0 {
		// Send it through protoc's pipe: the raw options become the
		// typed extensions the plugin sees, or the request does not
		// parse. Without the round trip, they stay unknown fields, as in
		// a descriptor built in process.
		b, err := proto.Marshal(req)
		if err != nil {
			return nil
		}
		req = new(pluginpb.CodeGeneratorRequest)
		if proto.Unmarshal(b, req) != nil {
			return nil
		}
	}
	return req
}

// QualifyName returns the full name, with a leading dot, of the message name
// in package pkg.
func QualifyName(pkg, name string) string {
	if pkg == "" {
		return "." + name
	}
	return "." + pkg + "." + name
}

// SetRawOption replaces the extension xt of opts with the wire bytes payload, if
// present, kept in the unknown fields until the request is parsed again.
func SetRawOption(opts proto.Message, xt protoreflect.ExtensionType, present bool, payload []byte) {
	proto.ClearExtension(opts, xt)
	var unknown []byte
	if present {
		unknown = protowire.AppendTag(nil, xt.TypeDescriptor().Number(), protowire.BytesType)
		unknown = protowire.AppendBytes(unknown, payload)
	}
	opts.ProtoReflect().SetUnknown(unknown)
}

// SlimRequest returns a copy of req whose google/protobuf/descriptor.proto
// declares only what retry/v1/retry.proto needs of it: the three options
// messages it extends, without their fields. The generator reads the
// options of the files to generate as the descriptorpb types linked into
// it, whatever the request declares, so the output does not change; the
// request shrinks to a tenth of its size.
func SlimRequest(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorRequest {
	req = proto.CloneOf(req)
	for _, fd := range req.ProtoFile {
		if fd.GetName() != "google/protobuf/descriptor.proto" {
			continue
		}
		var keep []*descriptorpb.DescriptorProto
		for _, m := range fd.MessageType {
			switch m.GetName() {
			case "FileOptions", "ServiceOptions", "MethodOptions":
				keep = append(keep, &descriptorpb.DescriptorProto{Name: m.Name, ExtensionRange: m.ExtensionRange})
			}
		}
		fd.MessageType, fd.EnumType, fd.SourceCodeInfo = keep, nil, nil
	}
	return req
}

// DescriptorSeeds returns the seeds of FuzzDescriptor: one for each method
// of base, the request of greet/greet.proto, as the file declares it, and
// a few that start further out.
func DescriptorSeeds(base *pluginpb.CodeGeneratorRequest) ([]DescriptorInput, error) {
	fd := FileToGenerate(base)
	svc := fd.Service[0]
	var err error
	raw := func(m proto.Message, xt protoreflect.ExtensionType) []byte {
		if m == nil || !proto.HasExtension(m, xt) {
			return nil
		}
		b, merr := proto.Marshal(proto.GetExtension(m, xt).(proto.Message))
		if merr != nil {
			err = merr
		}
		return b
	}
	fileOpt := raw(fd.Options, retryv1.E_File)
	svcOpt := raw(svc.Options, retryv1.E_Service)
	var seeds []DescriptorInput
	for i, m := range svc.Method {
		in := DescriptorInput{
			Path: fd.GetName(), Pkg: fd.GetPackage(), GoPackage: fd.GetOptions().GetGoPackage(),
			Service: svc.GetName(), Method: m.GetName(), Comment: " A comment.\n With two lines.\n",
			MethodOpt: raw(m.Options, retryv1.E_Method), ServiceOpt: svcOpt, FileOpt: fileOpt,
			Flags: uint16(i) << FlagMethodShift,
		}
		if m.GetOptions().GetIdempotencyLevel() != descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN {
			in.Flags |= uint16(m.GetOptions().GetIdempotencyLevel())
		}
		if m.GetClientStreaming() {
			in.Flags |= FlagClientStreaming
		}
		if m.GetServerStreaming() {
			in.Flags |= FlagServerStreaming
		}
		if in.MethodOpt != nil {
			in.Flags |= FlagMethodOpt
		}
		in.Flags |= FlagServiceOpt | FlagFileOpt
		seeds = append(seeds, in)
	}
	seeds = append(seeds, FurtherSeeds...)
	return seeds, err
}

// FurtherSeeds are the seeds of FuzzDescriptor that do not start from
// greet/greet.proto as it is.
var FurtherSeeds = []DescriptorInput{
	{Path: "a.proto", Pkg: "", GoPackage: "example.com/a", Service: "S", Method: "M", Flags: FlagMethodOpt, MethodOpt: []byte{8, 11}},
	{Path: "ctx/req.proto", Pkg: "ctx", GoPackage: "example.com/ctx;ctx", Service: "ctx", Method: "req", Flags: FlagServiceOpt | FlagCompilerVersion, ServiceOpt: []byte{8, 2, 16, 1}, Suffix: "rc1"},
	{Path: "x.proto", Pkg: "a.b_c", GoPackage: "example.com/x;x", Service: "type", Method: "String", Flags: FlagNoSourceInfo | FlagFileOpt, FileOpt: []byte{8, 200, 1}, Param: "max_retries=1000"},
	{Path: "greet/greet.proto", Pkg: "greet", GoPackage: "example.com/greet", Service: "S", Method: "M", Flags: FlagMethodOpt | FlagClientStreaming | 2, MethodOpt: []byte{}, Param: "paths=source_relative"},
	{Path: "b.proto", Pkg: "b", GoPackage: "example.com/b", Service: "S", Method: "M", Flags: FlagNoRoundTrip | FlagMethodOpt | FlagServiceOpt, MethodOpt: []byte{8, 3}, ServiceOpt: []byte{8}},
}

// Names that the generated code is awkward with: Go keywords and
// predeclared identifiers, its locals and the packages it imports, names
// it declares for a service (suffixes and prefixes included), greet.proto's
// own services, methods and messages, and names that Go or protobuf spell
// in unusual ways.
var names = []string{
	"type", "func", "String", "New", "Error", "error", "nil", "any", "init", "main", "_",
	"ctx", "req", "opts", "args", "handler", "c", "cli", "srv", "msg", "conn", "err", "hdlr", "dubboCli",
	"context", "http", "dubbo", "client", "common", "constant", "global", "server", "triple_protocol",
	"Impl", "Handler", "Name", "Procedure", "Client", "Server", "ClientInfo", "ServiceInfo", "Service",
	"GreetService", "GreetServiceImpl", "LegacyGreetService", "Greet", "GreetStream", "GreetRequest", "GreetResponse",
	"NewGreetService", "GreetService_ClientInfo", "GreetServiceHandler", "SetProviderGreetService",
	"Send", "Recv", "Conn", "Close", "CloseAndRecv", "Msg", "CloseRequest", "CloseResponse", "RequestHeader",
	"snake_case", "lowerCamel", "ALLCAPS", "X_", "_x", "req_", "a_b_c", "A_B", "B_C", "a__b", "x1", "Ünïcode", "日本",
	"RetryPolicy", "dubboretry", "_GreetService_retryPolicy", "File_greet_greet_proto",
}

// goPackages are go_package options, awkward ones included.
var goPackages = []string{
	"example.com/greet;greet", "example.com/greet", "example.com/x;x", "example.com/ctx;ctx", "example.com/client;client",
	"example.com/req", "example.com/a/v1;av1", "example.com/Greet;greet", "example.com/type", "example.com/a.b-c",
	"example.com/greet;Greet", "example.com/greet;greet_v1", "example.com/greet;ctx", "example.com/greet;context",
	"example.com/greet;triple_protocol", "example.com/greet;http", ";x", "", "example.com/greet;type", "example.com/greet;greet-v1",
}

// params are plugin parameters.
var params = []string{"", "", "", "paths=source_relative", "paths=import", "max_retries=0", "max_retries=1000",
	"module=example.com", "Mgreet/greet.proto=example.com/m;m", "annotate_code", "foo=bar",
	"publish_defaults", "publish_defaults=true", "publish_defaults=false,paths=source_relative"}

// optionPayloads are options of every level, as their wire bytes: each
// field of the policy, alone and together. A field that a level does not
// declare (budget on a method) is an error there.
var optionPayloads = func() [][]byte {
	second, tenth := durationpb.New(time.Second), durationpb.New(100*time.Millisecond)
	var out [][]byte
	for _, m := range []*retryv1.ServiceRetry{
		{},
		{Retries: proto.Uint32(0)},
		{Retries: proto.Uint32(3)},
		{Retries: proto.Uint32(10)},
		{Retries: proto.Uint32(11)},
		{Retries: proto.Uint32(2), IdempotentOnly: proto.Bool(true)},
		{Timeout: second},
		{Retries: proto.Uint32(3), Timeout: tenth},
		{RetryOn: []retryv1.Code{retryv1.Code_CODE_UNAVAILABLE}},
		{RetryOn: []retryv1.Code{retryv1.Code_CODE_UNAVAILABLE, retryv1.Code_CODE_ABORTED}, Retries: proto.Uint32(2)},
		{Backoff: &retryv1.Backoff{Initial: tenth}},
		{Backoff: &retryv1.Backoff{Initial: tenth, Max: second, Multiplier: 1.5}, Retries: proto.Uint32(4)},
		{Budget: &retryv1.Budget{Ratio: 0.2}},
		{Retries: proto.Uint32(1), Timeout: second, RetryOn: []retryv1.Code{retryv1.Code_CODE_DEADLINE_EXCEEDED},
			Backoff: &retryv1.Backoff{Initial: tenth}, Budget: &retryv1.Budget{Ratio: 0.5, MinRetriesPerSecond: proto.Uint32(3)}},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}()

// Random returns an input derived from one of seeds, as the fuzzing engine
// derives its inputs from the corpus: one to four of its arguments replaced
// or mutated, with values drawn from r.
func Random(r *rand.Rand, seeds []DescriptorInput) DescriptorInput {
	in := seeds[r.IntN(len(seeds))]
	in.MethodOpt, in.ServiceOpt, in.FileOpt = slices.Clone(in.MethodOpt), slices.Clone(in.ServiceOpt), slices.Clone(in.FileOpt)
	for range 1 + r.IntN(4) {
		switch r.IntN(12) {
		case 0:
			in.Path = pick(r, []string{"greet/greet.proto", "a.proto", "x/y/z.proto", "A/B.PROTO", "a-b.proto", "a b.proto", "ctx/req.proto", "1.proto"})
		case 1:
			in.Pkg = pick(r, []string{"greet", "", "a.b_c", "ctx", "client", "type", "Greet", "a.B.c"})
		case 2:
			in.GoPackage = pick(r, goPackages)
		case 3:
			in.Service = mutateName(r, in.Service)
		case 4, 5:
			in.Method = mutateName(r, in.Method)
		case 6:
			in.Comment = pick(r, []string{"", " A comment.\n", " */ /* \n", " \x00\n", " caf\xe9\n", "\n\n\n", " //go:generate x\n", " Deprecated: no.\n", " `backquote`\n"})
		case 7:
			in.MethodOpt = mutateOption(r, in.MethodOpt)
		case 8:
			in.ServiceOpt = mutateOption(r, in.ServiceOpt)
		case 9:
			in.FileOpt = mutateOption(r, in.FileOpt)
		case 10:
			in.Flags ^= 1 << r.IntN(16)
		case 11:
			in.Param = pick(r, params)
		}
	}
	return in
}

func pick[T any](r *rand.Rand, from []T) T { return from[r.IntN(len(from))] }

// mutateName returns a name drawn from names, name joined to one from
// names, or name with a character inserted: mostly one that keeps it a
// valid protobuf name, sometimes one that does not.
func mutateName(r *rand.Rand, name string) string {
	switch r.IntN(6) {
	case 0, 1, 2:
		return pick(r, names)
	case 3:
		if r.IntN(2) == 0 {
			return name + pick(r, names)
		}
		return pick(r, names) + name
	}
	chars := []byte("_aZ0")
	if r.IntN(3) == 0 {
		chars = []byte("9.$ \x00\xff")
	}
	b := []byte(name)
	return string(slices.Insert(b, r.IntN(len(b)+1), pick(r, chars)))
}

// mutateOption returns the payload of an option: mostly a valid one,
// sometimes opt with a bit flipped or a field added, or random bytes.
func mutateOption(r *rand.Rand, opt []byte) []byte {
	switch r.IntN(6) {
	case 0, 1, 2:
		return slices.Clone(pick(r, optionPayloads))
	case 3:
		if len(opt) > 0 {
			opt = slices.Clone(opt)
			opt[r.IntN(len(opt))] ^= byte(1 << r.IntN(8))
			return opt
		}
	case 4:
		return append(slices.Clone(opt), pick(r, [][]byte{{8, 5}, {16, 0}, {24}, {0x62, 0}, {0xa0, 0x96, 0x03, 1}})...)
	}
	b := make([]byte, r.IntN(8))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// A CorpusEntry is one input kept in a fuzz target's corpus directory.
type CorpusEntry struct {
	Target, Name string
	Args         []any // the values of the file, in order
}

// ReadCorpus reads the inputs kept below dir (testdata/fuzz), one
// directory a fuzz target, in the format go test writes them.
func ReadCorpus(dir string) ([]CorpusEntry, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", "*"))
	if err != nil {
		return nil, err
	}
	slices.Sort(paths)
	var out []CorpusEntry
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		args, err := parseCorpusFile(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", p, err)
		}
		out = append(out, CorpusEntry{Target: filepath.Base(filepath.Dir(p)), Name: filepath.Base(p), Args: args})
	}
	return out, nil
}

// parseCorpusFile reads a file in go test's corpus format: a header line,
// then one value a line, as a conversion of a Go literal: string("a"),
// []byte("b"), uint16(3).
func parseCorpusFile(b []byte) ([]any, error) {
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(nil, 1<<26)
	if !s.Scan() || s.Text() != "go test fuzz v1" {
		return nil, fmt.Errorf("not a go test fuzz v1 file")
	}
	var args []any
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if line == "" {
			continue
		}
		expr, err := parser.ParseExpr(line)
		if err != nil {
			return nil, err
		}
		call, ok := expr.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 {
			return nil, fmt.Errorf("%q is not a conversion", line)
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok {
			return nil, fmt.Errorf("%q does not convert a literal", line)
		}
		var typ string
		switch fn := call.Fun.(type) {
		case *ast.Ident:
			typ = fn.Name
		case *ast.ArrayType:
			if id, ok := fn.Elt.(*ast.Ident); ok && fn.Len == nil {
				typ = "[]" + id.Name
			}
		}
		switch {
		case typ == "string" || typ == "[]byte":
			if lit.Kind != token.STRING {
				return nil, fmt.Errorf("%q: want a string literal", line)
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", line, err)
			}
			if typ == "string" {
				args = append(args, v)
			} else {
				args = append(args, []byte(v))
			}
		case typ == "uint16":
			v, err := strconv.ParseUint(lit.Value, 0, 16)
			if err != nil {
				return nil, fmt.Errorf("%q: %v", line, err)
			}
			args = append(args, uint16(v))
		default:
			return nil, fmt.Errorf("%q: type %s is not one the fuzz targets take", line, typ)
		}
	}
	return args, s.Err()
}
