package main

import (
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

// The fuzz targets hold the generator to what a protoc plugin owes any
// request, however odd: it never panics, and it either reports an error
// and writes nothing, or writes Go source that parses.
//
// Without -fuzz, go test runs each target on its seeds and on the inputs kept
// in testdata/fuzz, which is where a failing input found by fuzzing
// belongs. Run them with, for example:
//
//	go test ./cmd/protoc-gen-go-retry -run '^$' -fuzz FuzzGenerate -fuzztime 3m
//	go test ./cmd/protoc-gen-go-retry -run '^$' -fuzz FuzzDescriptor -fuzztime 3m

// FuzzGenerate feeds the generator whole CodeGeneratorRequests, as protoc
// writes them on the plugin's standard input. The seeds are the golden
// requests and variants of them that flip what the generator looks at.
func FuzzGenerate(f *testing.F) {
	var seeds []*pluginpb.CodeGeneratorRequest
	for _, tc := range goldenCases {
		seeds = append(seeds, fuzzSeedRequest(f, tc.files, strings.Join(append([]string{"module=" + goldenModule}, tc.params...), ",")))
	}
	base := fuzzSeedRequest(f, []string{"greet/greet.proto"}, "")
	for _, v := range fuzzVariants {
		req := proto.CloneOf(base)
		v(req)
		seeds = append(seeds, req)
	}
	for _, req := range seeds {
		f.Add(mustMarshal(f, req))
		// The same request with a slim descriptor.proto, so that most
		// mutations land in the file to generate.
		slim := slimRequest(req)
		if !proto.Equal(generate(req), generate(slim)) {
			f.Fatalf("a slim descriptor.proto changes the output for %v", req.FileToGenerate)
		}
		f.Add(mustMarshal(f, slim))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := new(pluginpb.CodeGeneratorRequest)
		if proto.Unmarshal(b, req) != nil {
			return
		}
		checkGenerate(t, req)
	})
}

// FuzzDescriptor fuzzes one file of a request at the level of its
// descriptor: its path, package and go_package, the names and comments of
// a service and one of its methods, the raw bytes of the three retry
// options, the method's idempotency and streaming, deprecation, protoc's
// version and the plugin parameter. Mutating these directly reaches inputs
// that byte-level mutation of a whole request, most of which is
// descriptor.proto, seldom does.
func FuzzDescriptor(f *testing.F) {
	base := fuzzSeedRequest(f, []string{"greet/greet.proto"}, "")
	fd := base.ProtoFile[len(base.ProtoFile)-1]
	svc := fd.Service[0]
	raw := func(m proto.Message, xt protoreflect.ExtensionType) []byte {
		if !proto.HasExtension(m, xt) {
			return nil
		}
		return mustMarshal(f, proto.GetExtension(m, xt).(proto.Message))
	}
	fileOpt := raw(fd.Options, retryv1.E_File)
	svcOpt := raw(svc.Options, retryv1.E_Service)
	for i, m := range svc.Method {
		in := descriptorInput{
			path: fd.GetName(), pkg: fd.GetPackage(), goPackage: fd.GetOptions().GetGoPackage(),
			service: svc.GetName(), method: m.GetName(), comment: " A comment.\n With two lines.\n",
			methodOpt: raw(m.Options, retryv1.E_Method), serviceOpt: svcOpt, fileOpt: fileOpt,
			flags: uint16(i) << flagMethodShift,
		}
		if m.GetOptions().GetIdempotencyLevel() != descriptorpb.MethodOptions_IDEMPOTENCY_UNKNOWN {
			in.flags |= uint16(m.GetOptions().GetIdempotencyLevel())
		}
		if m.GetClientStreaming() {
			in.flags |= flagClientStreaming
		}
		if m.GetServerStreaming() {
			in.flags |= flagServerStreaming
		}
		if in.methodOpt != nil {
			in.flags |= flagMethodOpt
		}
		in.flags |= flagServiceOpt | flagFileOpt
		in.add(f)
	}
	// A few that start further out.
	for _, in := range []descriptorInput{
		{path: "a.proto", pkg: "", goPackage: "example.com/a", service: "S", method: "M", flags: flagMethodOpt, methodOpt: []byte{8, 11}},
		{path: "ctx/req.proto", pkg: "ctx", goPackage: "example.com/ctx;ctx", service: "ctx", method: "req", flags: flagServiceOpt | flagCompilerVersion, serviceOpt: []byte{8, 2, 16, 1}, suffix: "rc1"},
		{path: "x.proto", pkg: "a.b_c", goPackage: "example.com/x;x", service: "type", method: "String", flags: flagNoSourceInfo | flagFileOpt, fileOpt: []byte{8, 200, 1}, param: "max_retries=1000"},
		{path: "greet/greet.proto", pkg: "greet", goPackage: "example.com/greet", service: "S", method: "M", flags: flagMethodOpt | flagClientStreaming | 2, methodOpt: []byte{}, param: "paths=source_relative"},
		{path: "b.proto", pkg: "b", goPackage: "example.com/b", service: "S", method: "M", flags: flagNoRoundTrip | flagMethodOpt | flagServiceOpt, methodOpt: []byte{8, 3}, serviceOpt: []byte{8}},
	} {
		in.add(f)
	}
	f.Fuzz(func(t *testing.T, path, pkg, goPackage, service, method, comment string,
		methodOpt, serviceOpt, fileOpt []byte, flags uint16, param, suffix string) {
		in := descriptorInput{path, pkg, goPackage, service, method, comment, methodOpt, serviceOpt, fileOpt, flags, param, suffix}
		req := in.apply(base)
		if in.flags&flagNoRoundTrip == 0 {
			// Send it through protoc's pipe: the raw options become the
			// typed extensions the plugin sees, or the request does not
			// parse. Without the round trip, they stay unknown fields, as in
			// a descriptor built in process.
			b, err := proto.Marshal(req)
			if err != nil {
				return
			}
			req = new(pluginpb.CodeGeneratorRequest)
			if proto.Unmarshal(b, req) != nil {
				return
			}
		}
		checkGenerate(t, req)
	})
}

// checkGenerate runs the generator on req and checks its response: an
// error and no files, or files that parse as Go. A panic fails the fuzz
// target by itself.
func checkGenerate(t *testing.T, req *pluginpb.CodeGeneratorRequest) {
	resp := generate(req)
	if resp.Error != nil {
		if len(resp.File) > 0 {
			t.Errorf("reported an error and wrote %d files: %s", len(resp.File), resp.GetError())
		}
		return
	}
	for _, file := range resp.File {
		if !strings.HasSuffix(file.GetName(), ".triple.go") {
			t.Errorf("wrote %q, want only .triple.go files", file.GetName())
		}
		if _, err := parser.ParseFile(token.NewFileSet(), file.GetName(), file.GetContent(), parser.ParseComments); err != nil {
			t.Errorf("%s does not parse: %v\n%s", file.GetName(), err, clipSource(file.GetContent()))
			continue
		}
		checkGofmt(t, file)
	}
}

// clipSource shortens generated source for a failure message.
func clipSource(s string) string {
	const max = 4000
	if len(s) > max {
		return s[:max] + "\n[...]"
	}
	return s
}

// fuzzVariants change a request of greet/greet.proto in the ways the
// generator cares about; each is one seed of FuzzGenerate.
var fuzzVariants = []func(*pluginpb.CodeGeneratorRequest){
	// Every idempotency level on every method.
	func(req *pluginpb.CodeGeneratorRequest) {
		forEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) {
			methodOpts(m).IdempotencyLevel = descriptorpb.MethodOptions_IDEMPOTENT.Enum()
		})
	},
	func(req *pluginpb.CodeGeneratorRequest) {
		forEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) {
			methodOpts(m).IdempotencyLevel = descriptorpb.MethodOptions_NO_SIDE_EFFECTS.Enum()
		})
	},
	func(req *pluginpb.CodeGeneratorRequest) {
		forEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) { methodOpts(m).IdempotencyLevel = nil })
	},
	// Streaming flipped: the method options land on streaming methods.
	func(req *pluginpb.CodeGeneratorRequest) {
		forEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) {
			m.ClientStreaming = proto.Bool(!m.GetClientStreaming())
		})
	},
	func(req *pluginpb.CodeGeneratorRequest) {
		forEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) {
			m.ServerStreaming = proto.Bool(!m.GetServerStreaming())
		})
	},
	// An option on every unary method, and none anywhere.
	func(req *pluginpb.CodeGeneratorRequest) {
		forEachUnary(req, func(m *descriptorpb.MethodDescriptorProto) {
			proto.SetExtension(methodOpts(m), retryv1.E_Method, &retryv1.MethodRetry{Retries: proto.Uint32(7)})
		})
	},
	func(req *pluginpb.CodeGeneratorRequest) {
		fd := fileToGenerate(req)
		proto.ClearExtension(fd.Options, retryv1.E_File)
		for _, s := range fd.Service {
			if s.Options != nil {
				proto.ClearExtension(s.Options, retryv1.E_Service)
			}
		}
		forEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) { proto.ClearExtension(methodOpts(m), retryv1.E_Method) })
	},
	// Options that set no retries.
	func(req *pluginpb.CodeGeneratorRequest) {
		fd := fileToGenerate(req)
		proto.SetExtension(fd.Options, retryv1.E_File, &retryv1.FileRetry{IdempotentOnly: true})
		for _, s := range fd.Service {
			if s.Options == nil {
				s.Options = new(descriptorpb.ServiceOptions)
			}
			proto.SetExtension(s.Options, retryv1.E_Service, &retryv1.ServiceRetry{IdempotentOnly: true})
		}
		forEachUnary(req, func(m *descriptorpb.MethodDescriptorProto) {
			proto.SetExtension(methodOpts(m), retryv1.E_Method, &retryv1.MethodRetry{})
		})
	},
	// Retries at the cap and above it.
	func(req *pluginpb.CodeGeneratorRequest) {
		fd := fileToGenerate(req)
		proto.SetExtension(fd.Options, retryv1.E_File, &retryv1.FileRetry{Retries: proto.Uint32(1 << 31)})
		forEachUnary(req, func(m *descriptorpb.MethodDescriptorProto) {
			proto.SetExtension(methodOpts(m), retryv1.E_Method, &retryv1.MethodRetry{Retries: proto.Uint32(10)})
		})
	},
	// Each method option written twice, as the wire format allows: the
	// occurrences merge, and the last retries wins.
	func(req *pluginpb.CodeGeneratorRequest) {
		forEachUnary(req, func(m *descriptorpb.MethodDescriptorProto) {
			setRawOption(methodOpts(m), retryv1.E_Method, true, []byte{8, 4})
			o := methodOpts(m).ProtoReflect()
			o.SetUnknown(protowire.AppendBytes(protowire.AppendTag(o.GetUnknown(), retryv1.E_Method.TypeDescriptor().Number(), protowire.BytesType), []byte{8, 1}))
		})
	},
	// No source info: errors without positions.
	func(req *pluginpb.CodeGeneratorRequest) {
		fileToGenerate(req).SourceCodeInfo = nil
		req.Parameter = proto.String("max_retries=0")
	},
	// Names that collide with Go keywords, the generated locals and the
	// names the generated code declares.
	func(req *pluginpb.CodeGeneratorRequest) {
		fd := fileToGenerate(req)
		fd.Service[0].Name = proto.String("type")
		fd.Service[1].Name = proto.String("typeImpl")
		for i, name := range []string{"String", "ctx", "Conn", "req_", "_x", "X_", "opts"} {
			fd.Service[0].Method[i].Name = proto.String(name)
		}
	},
	// A package named like a generated local, in its own Go package.
	func(req *pluginpb.CodeGeneratorRequest) {
		fd := fileToGenerate(req)
		fd.Options.GoPackage = proto.String("example.com/ctx;ctx")
		req.Parameter = proto.String("paths=source_relative")
	},
	// protoc's version, and a deprecated file.
	func(req *pluginpb.CodeGeneratorRequest) {
		req.CompilerVersion = &pluginpb.Version{Major: proto.Int32(5), Minor: proto.Int32(29), Patch: proto.Int32(3), Suffix: proto.String("rc1")}
		fileToGenerate(req).Options.Deprecated = proto.Bool(true)
	},
}

// fileToGenerate returns the last file of req, the one to generate.
func fileToGenerate(req *pluginpb.CodeGeneratorRequest) *descriptorpb.FileDescriptorProto {
	return req.ProtoFile[len(req.ProtoFile)-1]
}

// forEachMethod calls fn on every method of the file to generate.
func forEachMethod(req *pluginpb.CodeGeneratorRequest, fn func(*descriptorpb.MethodDescriptorProto)) {
	for _, s := range fileToGenerate(req).Service {
		for _, m := range s.Method {
			fn(m)
		}
	}
}

// forEachUnary calls fn on every unary method of the file to generate.
func forEachUnary(req *pluginpb.CodeGeneratorRequest, fn func(*descriptorpb.MethodDescriptorProto)) {
	forEachMethod(req, func(m *descriptorpb.MethodDescriptorProto) {
		if !m.GetClientStreaming() && !m.GetServerStreaming() {
			fn(m)
		}
	})
}

// methodOpts returns the options of m, creating them if need be.
func methodOpts(m *descriptorpb.MethodDescriptorProto) *descriptorpb.MethodOptions {
	if m.Options == nil {
		m.Options = new(descriptorpb.MethodOptions)
	}
	return m.Options
}

// descriptorInput is one input of FuzzDescriptor, applied to the first
// service of greet/greet.proto and one of its methods.
type descriptorInput struct {
	path, pkg, goPackage           string
	service, method, comment       string
	methodOpt, serviceOpt, fileOpt []byte
	flags                          uint16
	param, suffix                  string
}

// Bits of descriptorInput.flags. The low two bits are the method's
// idempotency_level; the top four choose the method.
const (
	flagClientStreaming uint16 = 1 << (iota + 2)
	flagServerStreaming
	flagMethodOpt
	flagServiceOpt
	flagFileOpt
	flagDeprecated
	flagNoSourceInfo
	flagCompilerVersion
	flagNoRoundTrip
	flagMethodShift = 12
)

func (in descriptorInput) add(f *testing.F) {
	f.Add(in.path, in.pkg, in.goPackage, in.service, in.method, in.comment,
		in.methodOpt, in.serviceOpt, in.fileOpt, in.flags, in.param, in.suffix)
}

// apply returns a copy of base, the request of greet/greet.proto, changed
// as in says.
func (in descriptorInput) apply(base *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorRequest {
	req := proto.CloneOf(base)
	fd := fileToGenerate(req)
	svc := fd.Service[0]
	i := int(in.flags>>flagMethodShift) % len(svc.Method)
	m := svc.Method[i]

	fd.Name = proto.String(in.path)
	req.FileToGenerate = []string{in.path}
	// Rename the package, and the references to its messages with it.
	prefix := "." + fd.GetPackage() + "."
	fd.Package = proto.String(in.pkg)
	for _, s := range fd.Service {
		for _, m := range s.Method {
			m.InputType = proto.String(qualifyName(in.pkg, strings.TrimPrefix(m.GetInputType(), prefix)))
			m.OutputType = proto.String(qualifyName(in.pkg, strings.TrimPrefix(m.GetOutputType(), prefix)))
		}
	}
	fd.Options.GoPackage = proto.String(in.goPackage)
	svc.Name = proto.String(in.service)
	m.Name = proto.String(in.method)

	opts := methodOpts(m)
	opts.IdempotencyLevel = descriptorpb.MethodOptions_IdempotencyLevel(in.flags & 3).Enum()
	m.ClientStreaming = proto.Bool(in.flags&flagClientStreaming != 0)
	m.ServerStreaming = proto.Bool(in.flags&flagServerStreaming != 0)
	setRawOption(opts, retryv1.E_Method, in.flags&flagMethodOpt != 0, in.methodOpt)
	if svc.Options == nil {
		svc.Options = new(descriptorpb.ServiceOptions)
	}
	setRawOption(svc.Options, retryv1.E_Service, in.flags&flagServiceOpt != 0, in.serviceOpt)
	setRawOption(fd.Options, retryv1.E_File, in.flags&flagFileOpt != 0, in.fileOpt)
	if in.flags&flagDeprecated != 0 {
		fd.Options.Deprecated = proto.Bool(true)
		svc.Options.Deprecated = proto.Bool(true)
		opts.Deprecated = proto.Bool(true)
	}

	for _, loc := range fd.GetSourceCodeInfo().GetLocation() {
		if slices.Equal(loc.Path, []int32{6, 0}) || slices.Equal(loc.Path, []int32{6, 0, 2, int32(i)}) {
			loc.LeadingComments = proto.String(in.comment)
		}
	}
	if in.flags&flagNoSourceInfo != 0 {
		fd.SourceCodeInfo = nil
	}
	if in.flags&flagCompilerVersion != 0 {
		req.CompilerVersion = &pluginpb.Version{Major: proto.Int32(5), Minor: proto.Int32(29), Patch: proto.Int32(3), Suffix: proto.String(in.suffix)}
	}
	req.Parameter = proto.String(in.param)
	return req
}

// qualifyName returns the full name, with a leading dot, of the message name
// in package pkg.
func qualifyName(pkg, name string) string {
	if pkg == "" {
		return "." + name
	}
	return "." + pkg + "." + name
}

// setRawOption replaces the extension xt of opts with the wire bytes payload, if
// present, kept in the unknown fields until the request is parsed again.
func setRawOption(opts proto.Message, xt protoreflect.ExtensionType, present bool, payload []byte) {
	proto.ClearExtension(opts, xt)
	var unknown []byte
	if present {
		unknown = protowire.AppendTag(nil, xt.TypeDescriptor().Number(), protowire.BytesType)
		unknown = protowire.AppendBytes(unknown, payload)
	}
	opts.ProtoReflect().SetUnknown(unknown)
}

// slimRequest returns a copy of req whose google/protobuf/descriptor.proto
// declares only what retry/v1/retry.proto needs of it: the three options
// messages it extends, without their fields. The generator reads the
// options of the files to generate as the descriptorpb types linked into
// it, whatever the request declares, so the output does not change; the
// request shrinks to a tenth of its size.
func slimRequest(req *pluginpb.CodeGeneratorRequest) *pluginpb.CodeGeneratorRequest {
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

// fuzzSeedRequest compiles files of testdata/proto into the request protoc
// would send with parameter.
func fuzzSeedRequest(f *testing.F, files []string, parameter string) *pluginpb.CodeGeneratorRequest {
	f.Helper()
	req, err := protoc.Request([]string{protoDir}, files, parameter)
	if err != nil {
		f.Fatal(err)
	}
	return req
}

func mustMarshal(f *testing.F, m proto.Message) []byte {
	f.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
