// Package gen is the code generator behind protoc-gen-go-retry. It reads the
// retry options of each file to generate (options.go), resolves every
// method's .proto retry default (resolve.go), refuses bad options
// (check.go) and writes the file's dubbo-go Triple bindings (emit.go),
// whose names all come from names.go, as gofmt prints them (writer.go).
package gen

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

// Features this generator supports, for protogen.Plugin.
const (
	SupportedFeatures = uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL |
		pluginpb.CodeGeneratorResponse_FEATURE_SUPPORTS_EDITIONS)
	SupportedEditionsMinimum = descriptorpb.Edition_EDITION_PROTO2
	SupportedEditionsMaximum = descriptorpb.Edition_EDITION_2023
)

// DefaultMaxRetries is the cap on retries when the max_retries parameter is
// not given.
const DefaultMaxRetries = 10

// Config is what a run of the generator is told besides the request.
type Config struct {
	// Version is the plugin's version, written in each file's header.
	Version string
	// MaxRetries is the largest retries an option may declare.
	MaxRetries uint32
	// PublishDefaults makes providers publish the .proto's retries and
	// timeouts on their registered URLs (docs/design.md, "Registries").
	PublishDefaults bool
}

// Generate returns a .triple.go file for each file to generate that
// declares services, for the caller to add to protogen's response. If any
// retry option is bad it returns no file and every error found, one a line,
// sorted by position.
func Generate(plugin *protogen.Plugin, cfg Config) ([]*pluginpb.CodeGeneratorResponse_File, error) {
	plugin.SupportedFeatures = SupportedFeatures
	plugin.SupportedEditionsMinimum = SupportedEditionsMinimum
	plugin.SupportedEditionsMaximum = SupportedEditionsMaximum

	var (
		files []*file
		errs  optionErrors
	)
	for _, f := range plugin.Files {
		if !f.Generate {
			continue
		}
		m, ferrs := analyze(f, cfg)
		errs = append(errs, ferrs...)
		if len(m.services) > 0 {
			files = append(files, m)
		}
	}
	errs = append(errs, collisions(plugin, files)...)
	if len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	if annotate, ok := parameter(plugin.Request, "annotate_code"); ok && annotate != "false" {
		return nil, errors.New("parameter annotate_code: protoc-gen-go-retry writes no annotations")
	}
	module, _ := parameter(plugin.Request, "module")
	out := make([]*pluginpb.CodeGeneratorResponse_File, 0, len(files))
	for _, f := range files {
		gf := emit(plugin, cfg, f)
		if module != "" {
			name, ok := strings.CutPrefix(gf.GetName(), module+"/")
			if !ok {
				return nil, fmt.Errorf("%v: generated file does not match prefix %q", gf.GetName(), module)
			}
			gf.Name = &name
		}
		out = append(out, gf)
	}
	return out, nil
}

// parameter returns the value of one of the parameters that protogen
// handles itself, as protogen reads it (the last one given wins). emit
// writes its files without protogen, so it follows module= as protogen
// does, and refuses annotate_code, which protogen would act on.
func parameter(req *pluginpb.CodeGeneratorRequest, name string) (value string, ok bool) {
	for _, param := range strings.Split(req.GetParameter(), ",") {
		key, v, _ := strings.Cut(param, "=")
		if key == name {
			value, ok = v, true
		}
	}
	return value, ok
}

// file, service and method are a .proto file's services as the emitter
// sees them: protogen's descriptors, the names of what is generated for
// them and each method's call kind and resolved retry default.
type file struct {
	*protogen.File
	commentPath string // the .proto's path, made safe for a comment
	services    []*service
}

type service struct {
	*protogen.Service
	names   serviceNames
	methods []*method
	budget  Setting[Budget]
}

type method struct {
	*protogen.Method
	kind     kind
	names    methodNames
	policy   Policy
	wireName string // the method's name in the .proto, which dubbo-go routes and configures by

	// Set by emit, which alone knows how the generated file names things.
	in, out string     // the request and response types, qualified
	local   localNames // the parameters and variables of its generated functions
}

// hasPolicy reports whether the .proto declares any of the policy of s.
func (s *service) hasPolicy() bool {
	return s.budget.Source != NoDefault || slices.ContainsFunc(s.methods, func(m *method) bool { return !m.policy.empty() })
}

// hasRetries reports whether the .proto declares the retries of any method
// of s.
func (s *service) hasRetries() bool {
	return slices.ContainsFunc(s.methods, func(m *method) bool { return m.policy.Retries.Source != NoDefault })
}

// publishes reports whether the providers of s publish anything with
// publish_defaults: the .proto's retries or timeout of a method.
func (s *service) publishes() bool {
	return slices.ContainsFunc(s.methods, func(m *method) bool {
		return m.policy.Retries.Source != NoDefault || m.policy.Timeout.Source != NoDefault
	})
}

// A kind is the call kind of a method: which of its ends send a stream.
type kind int

const (
	unary kind = iota
	clientStreaming
	serverStreaming
	bidiStreaming
)

func kindOf(m *protogen.Method) kind {
	switch client, server := m.Desc.IsStreamingClient(), m.Desc.IsStreamingServer(); {
	case client && server:
		return bidiStreaming
	case client:
		return clientStreaming
	case server:
		return serverStreaming
	}
	return unary
}

func (k kind) streaming() bool { return k != unary }

// clientStreams reports whether the client sends a stream of requests
// rather than one request.
func (k kind) clientStreams() bool { return k == clientStreaming || k == bidiStreaming }

// serverStreams reports whether the server sends a stream of responses
// rather than one response.
func (k kind) serverStreams() bool { return k == serverStreaming || k == bidiStreaming }

// String names the kind, for messages.
func (k kind) String() string {
	switch k {
	case clientStreaming:
		return "client streaming"
	case serverStreaming:
		return "server streaming"
	case bidiStreaming:
		return "bidirectional streaming"
	}
	return "unary"
}

// analyze reads the retry options of f, checks them against cfg and
// resolves the default of every method.
func analyze(f *protogen.File, cfg Config) (*file, optionErrors) {
	c := &checker{file: f, maxRetries: cfg.MaxRetries}

	fileRetries, err := fileRetry(f.Desc.Options())
	c.check(optionSite{
		subject:  string(f.Desc.Package()),
		option:   "(retry.v1.file)",
		path:     childPath(nil, fileOptionsField, retryv1.E_File.Field),
		fallback: []protoreflect.SourcePath{{packageField}, {syntaxField}},
	}, fileRetries, err)

	if problem := goPackageNameProblem(string(f.GoPackageName)); len(f.Services) > 0 && problem != "" {
		c.errorf(string(f.Desc.Package()), []protoreflect.SourcePath{{fileOptionsField, goPackageField}, {packageField}, {syntaxField}},
			"the Go package name %q (from go_package or an M parameter) %s", f.GoPackageName, problem)
	}

	out := &file{File: f, commentPath: commentText(f.Desc.Path())}
	for _, s := range f.Services {
		svcRetries, err := serviceRetry(s.Desc.Options())
		svc := &service{
			Service: s,
			names:   newServiceNames(s),
			budget:  ResolveBudget(Options{Service: svcRetries, File: fileRetries}),
		}
		out.services = append(out.services, svc)

		c.check(optionSite{
			subject:  string(s.Desc.FullName()),
			option:   "(retry.v1.service)",
			path:     childPath(s.Location.Path, serviceOptionsField, retryv1.E_Service.Field),
			fallback: []protoreflect.SourcePath{s.Location.Path},
		}, svcRetries, err)

		for _, m := range s.Methods {
			k := kindOf(m)
			methodRetries, err := methodRetry(m.Desc.Options())
			site := optionSite{
				subject:  string(m.Desc.FullName()),
				option:   "(retry.v1.method)",
				path:     childPath(m.Location.Path, methodOptionsField, retryv1.E_Method.Field),
				fallback: []protoreflect.SourcePath{m.Location.Path},
			}
			if methodRetries != nil && k.streaming() {
				c.errorf(site.subject, site.paths(),
					"(retry.v1.method) is set on a %s method; retry defaults apply to unary methods only", k)
				methodRetries = nil // the error says all there is to say about it
			}
			c.check(site, methodRetries, err)
			c.checkMethodHedging(site, methodRetries, idempotent(m))

			svc.methods = append(svc.methods, &method{
				Method:   m,
				kind:     k,
				names:    newMethodNames(s, m),
				wireName: string(m.Desc.Name()),
				policy: Resolve(
					Method{Streaming: k.streaming(), Idempotent: idempotent(m)},
					Options{Method: methodRetries, Service: svcRetries, File: fileRetries},
				),
			})
		}
	}
	return out, c.errs
}

// idempotent reports whether m is declared safe to repeat.
func idempotent(m *protogen.Method) bool {
	opts, _ := m.Desc.Options().(*descriptorpb.MethodOptions)
	switch opts.GetIdempotencyLevel() {
	case descriptorpb.MethodOptions_IDEMPOTENT, descriptorpb.MethodOptions_NO_SIDE_EFFECTS:
		return true
	}
	return false
}
