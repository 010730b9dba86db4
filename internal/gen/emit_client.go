package gen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

// emitClient writes the client side of s: its interface, its constructor,
// which applies the .proto's retry defaults, and its implementation.
func emitClient(w *writer, cfg Config, f *file, s *service) {
	emitClientInterface(w, f, s)
	emitNewClient(w, cfg, f, s)
	emitSetConsumer(w, s)

	w.doc(new(doc).line(s.names.ClientImpl, " implements ", s.names.Client, "."))
	w.P("type ", s.names.ClientImpl, " struct {")
	w.P("conn *", w.qual(clientPackage.Ident("Connection")))
	w.P("}")
	w.P()
	for _, m := range s.methods {
		emitClientMethod(w, s, m)
	}
	for _, m := range s.methods {
		if m.kind.streaming() {
			client, _ := streamEnds(w, m)
			emitStreamEnd(w, client)
		}
	}
	emitClientInfo(w, s)
}

// emitClientInterface writes the interface that callers hold, whose method
// comments state each method's .proto retry default.
func emitClientInterface(w *writer, f *file, s *service) {
	w.doc(new(doc).
		line(s.names.Client, " is a client for the ", string(s.Desc.FullName()), " service.").
		comments(s.Comments.Leading).
		deprecated(serviceDeprecated(s)))
	w.P("type ", s.names.Client, " interface {")
	for _, m := range s.methods {
		d := new(doc)
		if m.Comments.Leading != "" {
			d.comments(m.Comments.Leading)
		} else {
			d.line(m.names.Method, " calls ", string(m.Desc.FullName()), ".")
		}
		w.doc(d.para().text(retryDoc(f, s, m)).deprecated(methodDeprecated(m)))
		w.P(clientSignature(w, m))
	}
	w.P("}")
	w.P()
}

// emitNewClient writes the constructor, and the .proto defaults it applies.
func emitNewClient(w *writer, cfg Config, f *file, s *service) {
	w.doc(constructorDoc(cfg, f, s))
	w.P("func ", s.names.NewClient, "(cli *", w.qual(clientPackage.Ident("Client")), ", opts ...", w.qual(clientPackage.Ident("ReferenceOption")), ") (", s.names.Client, ", error) {")
	defaults := "nil"
	if s.hasDefaults() {
		defaults = s.names.retryDefaults
	}
	opts := "opts"
	if s.hasTimeouts() {
		opts = f.names.timeoutOptions + "(" + s.names.timeouts + ", " + opts + ")"
	}
	if cfg.PublishDefaults && s.hasDefaults() {
		opts = f.names.serviceRetriesOptions + "(" + defaults + ", " + opts + ")"
	}
	all := f.names.retryOptions + "(" + defaults + ", " + opts + ")"
	if s.hasPolicy() {
		// Last, so that no option of the caller's can take its cluster away
		// from it but by naming another.
		all = "append(" + all + ", " + s.names.retryPolicy + ")"
	}
	w.P("conn, err := cli.DialWithInfo(", strconv.Quote(string(s.Desc.FullName())), ", &", s.names.ClientInfo, ", ", all, "...)")
	w.P("if err != nil {")
	w.P("return nil, err")
	w.P("}")
	w.P("return &", s.names.ClientImpl, "{")
	w.P("conn: conn,")
	w.P("}, nil")
	w.P("}")
	w.P()

	if s.hasDefaults() {
		emitRetryDefaults(w, f, s)
	}
	if s.hasTimeouts() {
		emitTimeouts(w, f, s)
	}
	if s.hasPolicy() {
		emitRetryPolicy(w, f, s)
	}
}

// constructorDoc is the doc comment of the constructor of s: what it
// layers, and where each part comes from.
func constructorDoc(cfg Config, f *file, s *service) *doc {
	d := new(doc).line(s.names.NewClient, " constructs a client for the ", string(s.Desc.FullName()), " service.").para()
	if s.hasDefaults() {
		d.text("The client applies the retry defaults that " + f.commentPath + " declares (see each method of " +
			s.names.Client + ") above the client-wide ones of cli (client.WithClientRetries). Options given here" +
			" (client.WithRetries, client.WithMethod) and on a call (client.WithCallRetries) override them.")
	} else {
		d.text(f.commentPath + " declares no retry defaults for this service: the retries of cli apply," +
			" unless options given here or on a call override them.")
	}
	if s.hasTimeouts() {
		d.para().text("Each attempt of a unary call is limited to the call's timeout" +
			" (client.WithCallRequestTimeout), else the method's (client.WithMethod), else the service's" +
			" (client.WithRequestTimeout), else the one " + f.commentPath + " declares (see each method)," +
			" even when the caller's context has a deadline, which then bounds the whole call. A method" +
			" with none of these has the client's (client.WithClientRequestTimeout), as dubbo-go applies it.")
	}
	if s.hasPolicy() {
		d.para().text("Which failures are retried, and how far apart, is the .proto's (see each method) unless" +
			" the caller's options of package dubboretry say otherwise: the service runs on dubboretry's cluster," +
			" dubbo-go's failover with the policy in its loop.")
		if b := s.budget; b.Source != NoDefault {
			d.para().text(fmt.Sprintf("Its retries, in this process, may add at most %s%% of its calls, plus %d a second,"+
				" over any 10 s: a budget set by %s. A retry the budget refuses is not made.",
				strconv.FormatFloat(b.Value.Ratio*100, 'g', 6, 64), b.Value.MinRetriesPerSecond, budgetSourceDoc(f, s, b.Source)))
		}
	}
	if cfg.PublishDefaults && s.hasDefaults() {
		d.para().text("Its providers publish the same defaults on their URLs (the file was generated with" +
			" publish_defaults), as method-level values, which beat a client.WithRetries in the URL dubbo-go merges:" +
			" the client gives client.WithRetries to each such method, so that it still beats them.")
	}
	return d.para().
		text("The service gets its own copy of the reference config of cli, so opts do not leak into" +
			" other services created from cli.").
		deprecated(serviceDeprecated(s))
}

// emitRetryDefaults writes the .proto's retries of the methods of s.
func emitRetryDefaults(w *writer, f *file, s *service) {
	w.doc(new(doc).text(s.names.retryDefaults + " are the retry defaults that " + f.commentPath + " declares for the methods of " +
		string(s.Desc.FullName()) + ", by the method names dubbo-go configures them by."))
	w.P("var ", s.names.retryDefaults, " = []", w.qual(globalPackage.Ident("MethodConfig")), "{")
	for _, m := range s.methods {
		if m.policy.Retries.Source != NoDefault {
			w.P("{Name: ", strconv.Quote(m.wireName), ", Retries: ", strconv.Quote(strconv.FormatUint(uint64(m.policy.Retries.Retries), 10)), "},")
		}
	}
	w.P("}")
	w.P()
}

// emitTimeouts writes the unary methods of s with the timeouts the .proto
// declares for them.
func emitTimeouts(w *writer, f *file, s *service) {
	w.doc(new(doc).text(s.names.timeouts + " are the unary methods of " + string(s.Desc.FullName()) +
		", by the names dubbo-go configures them by, with the timeouts that " + f.commentPath +
		" declares for them: a method with none takes the service's (client.WithRequestTimeout) if the caller" +
		" gives one."))
	w.P("var ", s.names.timeouts, " = []", w.qual(globalPackage.Ident("MethodConfig")), "{")
	for _, m := range s.methods {
		switch t := m.policy.Timeout; {
		case m.kind.streaming():
		case t.Source == NoDefault:
			w.P("{Name: ", strconv.Quote(m.wireName), "},")
		default:
			w.P("{Name: ", strconv.Quote(m.wireName), ", RequestTimeout: ", strconv.Quote(t.Value.String()), "},")
		}
	}
	w.P("}")
	w.P()
}

func emitSetConsumer(w *writer, s *service) {
	emitLoadSetter(w, new(doc).text(s.names.SetConsumer+" registers srv for dubbo.Load. A service that dubbo.Load creates"+
		" does not get the retry defaults of the .proto: create it with "+s.names.NewClient+" for that."),
		s.names.SetConsumer, "SetConsumerServiceWithInfo", s.names.ClientInfo)
}

// emitLoadSetter writes a function that registers srv with dubbo-go's
// setter, for dubbo.Load, with the service's info.
func emitLoadSetter(w *writer, d *doc, name, setter, info string) {
	w.doc(d)
	w.P("func ", name, "(srv ", w.qual(commonPackage.Ident("RPCService")), ") {")
	w.P(w.qual(dubboPackage.Ident(setter)), "(srv, &", info, ")")
	w.P("}")
	w.P()
}

func emitClientInfo(w *writer, s *service) {
	names := make([]string, len(s.methods))
	for i, m := range s.methods {
		names[i] = strconv.Quote(m.wireName)
	}
	w.P("var ", s.names.ClientInfo, " = ", w.qual(clientPackage.Ident("ClientInfo")), "{")
	w.aligned(
		column{"InterfaceName:", strconv.Quote(string(s.Desc.FullName())) + ","},
		column{"MethodNames:", "[]string{" + strings.Join(names, ", ") + "},"})
	w.P("ConnectionInjectFunc: func(dubboCliRaw any, conn *", w.qual(clientPackage.Ident("Connection")), ") {")
	w.P("dubboCli := dubboCliRaw.(*", s.names.ClientImpl, ")")
	w.P("dubboCli.conn = conn")
	w.P("},")
	w.P("}")
	w.P()
}

// clientSignature is the signature of m on the client interface.
func clientSignature(w *writer, m *method) string {
	v := m.local
	params := v.ctx + " " + w.qual(contextPackage.Ident("Context"))
	if !m.kind.clientStreams() {
		params += ", " + v.req + " *" + m.in
	}
	params += ", " + v.opts + " ..." + w.qual(clientPackage.Ident("CallOption"))
	result := "*" + m.out
	if m.kind.streaming() {
		result = m.names.ClientStream
	}
	return m.names.Method + "(" + params + ") (" + result + ", error)"
}

// emitClientMethod writes the client's implementation of m. Its body is
// protoc-gen-go-triple's, so that a call costs exactly what it costs there:
// all of the retry work is done once, in the constructor.
func emitClientMethod(w *writer, s *service, m *method) {
	v := m.local
	if methodDeprecated(m) {
		w.doc(new(doc).deprecated(true))
	}
	w.P("func (", v.c, " *", s.names.ClientImpl, ") ", clientSignature(w, m), " {")
	wire := strconv.Quote(m.wireName)
	call := v.c + ".conn." + m.kind.call() + "(" + v.ctx + ", "
	switch m.kind {
	case unary:
		w.P("resp := new(", m.out, ")")
		w.P("if err := ", call, "[]any{", v.req, "}, resp, ", wire, ", ", v.opts, "...); err != nil {")
		w.P("return nil, err")
		w.P("}")
		w.P("return resp, nil")
	default:
		if m.kind == serverStreaming {
			call += v.req + ", "
		}
		w.P("stream, err := ", call, wire, ", ", v.opts, "...)")
		w.P("if err != nil {")
		w.P("return nil, err")
		w.P("}")
		w.P("rawStream := stream.(*", w.qual(triplePackage.Ident(m.kind.clientStreamType())), ")")
		w.P("return &", m.names.ClientStreamImpl, "{rawStream}, nil")
	}
	w.P("}")
	w.P()
}

// retryDoc documents the .proto retry policy of m, for its doc comment.
func retryDoc(f *file, s *service, m *method) string {
	if m.kind.streaming() {
		return "Streaming: retry defaults from the .proto apply to unary methods only."
	}
	p := m.policy
	var b strings.Builder
	switch d := p.Retries; {
	case d.Source == NoDefault:
		b.WriteString("No retry default in the .proto: the client's retries apply (dubbo-go's own default is 2).")
	case d.NotIdempotent:
		b.WriteString("Retry default from the .proto: 0 retries (1 attempt), because " + sourceDoc(f, s, d.Source) +
			" gives " + retries(d.Declared) + " to idempotent methods only, and the idempotency_level" +
			" of this method is not IDEMPOTENT or NO_SIDE_EFFECTS.")
	default:
		b.WriteString("Retry default from the .proto: " + retries(d.Retries) + " (" + attempts(d.Retries) + "), set by " +
			sourceDoc(f, s, d.Source) + ".")
	}
	if t := p.Timeout; t.Source != NoDefault {
		b.WriteString(" Timeout from the .proto: " + t.Value.String() + " for each attempt, set by " + sourceDoc(f, s, t.Source) +
			"; an attempt that takes longer fails with DEADLINE_EXCEEDED, and is retried like any other failure.")
	}
	if r := p.RetryOn; r.Source != NoDefault {
		codes := make([]string, len(r.Value))
		for i, c := range r.Value {
			codes[i] = strings.TrimPrefix(c.String(), "CODE_")
		}
		b.WriteString(" Retried only on " + list(codes) + ", set by " + sourceDoc(f, s, r.Source) +
			"; any other failure ends the call.")
	}
	if bo := p.Backoff; bo.Source != NoDefault {
		fmt.Fprintf(&b, " Backoff from the .proto, set by %s: the delay before retry n is drawn from [0, min(%v, %v x %v^(n-1))].",
			sourceDoc(f, s, bo.Source), bo.Value.Max, bo.Value.Initial, bo.Value.Multiplier)
	}
	if s.budget.Source != NoDefault {
		b.WriteString(" Its retries count against the budget of the service (see " + s.names.NewClient + ").")
	}
	return b.String()
}

// sourceDoc names the option that set a field of a policy of a method of s.
func sourceDoc(f *file, s *service, src Source) string {
	switch src {
	case MethodOption:
		return "its (retry.v1.method) option"
	case ServiceOption:
		return "the (retry.v1.service) option of " + string(s.Desc.FullName())
	}
	return "the (retry.v1.file) option of " + f.commentPath
}

// list joins words as a sentence does: "a", "a and b", "a, b and c".
func list(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func retries(n uint32) string {
	if n == 1 {
		return "1 retry"
	}
	return fmt.Sprintf("%d retries", n)
}

func attempts(n uint32) string {
	if n == 0 {
		return "1 attempt"
	}
	return fmt.Sprintf("at most %d attempts", uint64(n)+1)
}

// budgetSourceDoc names the option that set the budget of s.
func budgetSourceDoc(f *file, s *service, src Source) string {
	if src == ServiceOption {
		return "its (retry.v1.service) option"
	}
	return "the (retry.v1.file) option of " + f.commentPath
}

// emitRetryPolicy writes the .proto's retry_on, backoff and budget of s,
// as the option of dubboretry that applies them under the caller's.
func emitRetryPolicy(w *writer, f *file, s *service) {
	w.doc(new(doc).text(s.names.retryPolicy + " applies the retry_on, backoff and budget that " + f.commentPath +
		" declares for " + string(s.Desc.FullName()) + ", under the options of package dubboretry that the caller gives."))
	w.P("var ", s.names.retryPolicy, " = ", w.qual(dubboretryPackage.Ident("Defaults")), "(&", w.qual(dubboretryPackage.Ident("ServicePolicy")), "{")
	var methods []*method
	for _, m := range s.methods {
		if !m.kind.streaming() && m.hasPolicy() {
			methods = append(methods, m)
		}
	}
	if len(methods) > 0 {
		w.P("Methods: []", w.qual(dubboretryPackage.Ident("MethodPolicy")), "{")
		for _, m := range methods {
			fields := []column{{"Name:", strconv.Quote(m.wireName) + ","}}
			if r := m.policy.RetryOn; r.Source != NoDefault {
				codes := make([]string, len(r.Value))
				for i, c := range r.Value {
					codes[i] = w.qual(triplePackage.Ident(tripleCode(c)))
				}
				fields = append(fields, column{"RetryOn:", "[]" + w.qual(triplePackage.Ident("Code")) + "{" + strings.Join(codes, ", ") + "},"})
			}
			if b := m.policy.Backoff; b.Source != NoDefault {
				fields = append(fields, column{"Backoff:", "&" + w.qual(dubboretryPackage.Ident("Backoff")) +
					"{Initial: " + durationExpr(w, b.Value.Initial) + ", Max: " + durationExpr(w, b.Value.Max) +
					", Multiplier: " + strconv.FormatFloat(b.Value.Multiplier, 'g', -1, 64) + "},"})
			}
			w.P("{")
			w.aligned(fields...)
			w.P("},")
		}
		w.P("},")
	}
	if b := s.budget; b.Source != NoDefault {
		w.P("Budget: &", w.qual(dubboretryPackage.Ident("Budget")), "{Ratio: ", strconv.FormatFloat(b.Value.Ratio, 'g', -1, 64),
			", MinRetriesPerSecond: ", strconv.FormatUint(uint64(b.Value.MinRetriesPerSecond), 10), "},")
	}
	w.P("})")
	w.P()
}

// tripleCode is the name of the constant of triple_protocol for c, a code
// of retry.proto with the same number: CODE_INVALID_ARGUMENT is
// CodeInvalidArgument.
func tripleCode(c retryv1.Code) string {
	name := "Code"
	for _, word := range strings.Split(strings.TrimPrefix(c.String(), "CODE_"), "_") {
		name += word[:1] + strings.ToLower(word[1:])
	}
	return name
}

// durationExpr writes d as a Go expression of package time, in the largest
// unit that divides it: 100 * time.Millisecond, time.Second.
func durationExpr(w *writer, d time.Duration) string {
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{time.Hour, "Hour"}, {time.Minute, "Minute"}, {time.Second, "Second"}, {time.Millisecond, "Millisecond"},
		{time.Microsecond, "Microsecond"}, {time.Nanosecond, "Nanosecond"}} {
		if d%u.unit != 0 {
			continue
		}
		unit := w.qual(timePackage.Ident(u.name))
		if d == u.unit {
			return unit
		}
		return strconv.FormatInt(int64(d/u.unit), 10) + " * " + unit
	}
	return "0"
}
