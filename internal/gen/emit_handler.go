package gen

import (
	"strconv"
	"strings"
)

// emitHandler writes the server side of s: the interface its implementation
// satisfies, the functions that register one, and what dubbo-go needs to
// serve it.
func emitHandler(w *writer, cfg Config, f *file, s *service) {
	deprecated := serviceDeprecated(s)
	ctx := w.qual(contextPackage.Ident("Context"))

	w.doc(new(doc).
		line(s.names.Handler, " is an implementation of the ", string(s.Desc.FullName()), " service.").
		comments(s.Comments.Leading).
		deprecated(deprecated))
	w.P("type ", s.names.Handler, " interface {")
	for _, m := range s.methods {
		w.doc(new(doc).comments(m.Comments.Leading).deprecated(methodDeprecated(m)))
		params := ctx
		if !m.kind.clientStreams() {
			params += ", *" + m.in
		}
		if m.kind.streaming() {
			params += ", " + m.names.ServerStream
		}
		result := "(*" + m.out + ", error)"
		if m.kind.serverStreams() {
			result = "error"
		}
		w.P(m.names.Method, "(", params, ") ", result)
	}
	w.P("}")
	w.P()

	d := new(doc)
	if cfg.PublishDefaults && s.publishes() {
		d.text(s.names.Register + " registers hdlr with srv. The provider publishes the retries and timeouts that " +
			f.commentPath + " declares for the methods of " + string(s.Desc.FullName()) + " on its registered URL" +
			" (the file was generated with publish_defaults), for every consumer, where opts set none:" +
			" a server.WithMethod for the method, or server.WithRetries for the service, wins.")
	}
	w.doc(d.deprecated(deprecated))
	w.P("func ", s.names.Register, "(srv *", w.qual(serverPackage.Ident("Server")), ", hdlr ", s.names.Handler, ", opts ...", w.qual(serverPackage.Ident("ServiceOption")), ") error {")
	w.P("return srv.Register(hdlr, &", s.names.ServiceInfo, ", opts...)")
	w.P("}")
	w.P()
	d = new(doc)
	if cfg.PublishDefaults && s.publishes() {
		d.text(s.names.SetProvider + " registers srv for dubbo.Load. The provider publishes the retries and" +
			" timeouts of the .proto, as " + s.names.Register + " does.")
	}
	emitLoadSetter(w, d, s.names.SetProvider, "SetProviderServiceWithInfo", s.names.ServiceInfo)

	for _, m := range s.methods {
		if m.kind.streaming() {
			_, server := streamEnds(w, m)
			emitStreamEnd(w, server)
		}
	}
	emitServiceInfo(w, s)
}

func emitServiceInfo(w *writer, s *service) {
	methodInfo := w.qual(serverPackage.Ident("MethodInfo"))
	w.P("var ", s.names.ServiceInfo, " = ", w.qual(serverPackage.Ident("ServiceInfo")), "{")
	fields := []column{
		{"InterfaceName:", strconv.Quote(string(s.Desc.FullName())) + ","},
		{"ServiceType:", "(*" + s.names.Handler + ")(nil),"},
	}
	if len(s.methods) == 0 {
		// gofmt aligns the key of a one-line value with the keys above.
		w.aligned(append(fields, column{"Methods:", "[]" + methodInfo + "{},"})...)
	} else {
		w.aligned(fields...)
		w.P("Methods: []", methodInfo, "{")
		for _, m := range s.methods {
			emitMethodInfo(w, s, m)
		}
		w.P("},")
	}
	w.P("}")
	w.P()
}

// emitMethodInfo writes what dubbo-go needs to serve m: how to make its
// request and stream, and how to call the handler.
func emitMethodInfo(w *writer, s *service, m *method) {
	v := m.local
	w.P("{")
	w.P("Name: ", strconv.Quote(m.wireName), ",")
	w.P("Type: ", w.qual(constantPackage.Ident(m.kind.call())), ",")
	if !m.kind.clientStreams() {
		w.P("ReqInitFunc: func() any {")
		w.P("return new(", m.in, ")")
		w.P("},")
	}
	if m.kind.streaming() {
		w.P("StreamInitFunc: func(baseStream any) any {")
		w.P("return &", m.names.ServerStreamImpl, "{baseStream.(*", w.qual(triplePackage.Ident(m.kind.serverStreamType())), ")}")
		w.P("},")
	}
	w.P("MethodFunc: func(", v.ctx, " ", w.qual(contextPackage.Ident("Context")), ", ", v.args, " []any, ", v.handler, " any) (any, error) {")
	// The handler's arguments: the request, unless the client streams, then
	// the stream, for a streaming method.
	args, next := v.ctx, 0
	if !m.kind.clientStreams() {
		w.P("req := ", v.args, "[0].(*", m.in, ")")
		args, next = args+", req", 1
	}
	if m.kind.streaming() {
		w.P("stream := ", v.args, "[", strconv.Itoa(next), "].(", m.names.ServerStream, ")")
		args += ", stream"
	}
	call := v.handler + ".(" + s.names.Handler + ")." + m.names.Method + "(" + args + ")"
	if m.kind.serverStreams() {
		w.P("if err := ", call, "; err != nil {")
		w.P("return nil, err")
		w.P("}")
		w.P("return nil, nil")
	} else {
		w.P("res, err := ", call)
		w.P("if err != nil {")
		w.P("return nil, err")
		w.P("}")
		w.P("return ", w.qual(triplePackage.Ident("NewResponse")), "(res), nil")
	}
	w.P("},")
	w.P("},")
}

// emitPublish registers the services of f with dubboretry.Publish, whose
// providers then publish the retries and timeouts that the .proto declares
// (docs/design.md, "Publishing the .proto's defaults").
func emitPublish(w *writer, f *file) {
	w.P("func init() {")
	w.P("// Providers of these services publish the retries and timeouts of ", f.commentPath)
	w.P("// (generated with publish_defaults).")
	var policies []string
	for _, s := range f.services {
		if s.publishes() {
			policies = append(policies, "&"+s.names.retryPolicy)
		}
	}
	w.P(w.qual(dubboretryPackage.Ident("Publish")), "(", strings.Join(policies, ", "), ")")
	w.P("}")
}
