package gen

import (
	"fmt"
	"slices"
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
	w.aligned(
		column{"conn", "*" + w.qual(clientPackage.Ident("Connection"))},
		column{"policy", "*" + w.qual(dubboretryPackage.Ident("Policy"))})
	w.P("}")
	w.P()
	w.doc(new(doc).text(s.names.RetryPolicy + " returns the retry policy of each unary method of the service as " +
		s.names.NewClient + " created it: every value after the layers below the call, and the layer that set it" +
		" (see dubboretry.Policy). It is nil for a service that dubbo.Load created."))
	w.P("func (", "c *", s.names.ClientImpl, ") ", s.names.RetryPolicy, "() *", w.qual(dubboretryPackage.Ident("Policy")), " {")
	w.P("return c.policy")
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
		w.doc(d.para().text(policyDoc(f, s, m)).deprecated(methodDeprecated(m)))
		w.P(clientSignature(w, m))
	}
	w.P("}")
	w.P()
}

// emitNewClient writes the constructor, which hands the .proto's policy of
// s and the caller's options to the runtime, and the policy itself.
func emitNewClient(w *writer, cfg Config, f *file, s *service) {
	w.doc(constructorDoc(cfg, f, s))
	w.P("func ", s.names.NewClient, "(cli *", w.qual(clientPackage.Ident("Client")), ", opts ...", w.qual(clientPackage.Ident("ReferenceOption")), ") (", s.names.Client, ", error) {")
	w.P("conn, policy, err := ", w.qual(dubboretryPackage.Ident("Dial")), "(cli, &", s.names.ClientInfo, ", &", s.names.retryPolicy, ", opts...)")
	w.P("if err != nil {")
	w.P("return nil, err")
	w.P("}")
	w.P("return &", s.names.ClientImpl, "{")
	w.aligned(column{"conn:", "conn,"}, column{"policy:", "policy,"})
	w.P("}, nil")
	w.P("}")
	w.P()
	emitRetryPolicy(w, f, s)
}

// constructorDoc is the doc comment of the constructor of s: how the
// layers of the policy meet.
func constructorDoc(cfg Config, f *file, s *service) *doc {
	d := new(doc).line(s.names.NewClient, " constructs a client for the ", string(s.Desc.FullName()), " service.").para()
	lead := "Its methods take the retry policy that " + f.commentPath + " declares (see each method of " + s.names.Client + ")"
	if !s.hasPolicy() {
		lead = f.commentPath + " declares no retry policy for this service. Its methods take whatever is set"
	}
	d.text(lead + " above the client's settings (client.WithClientRetries, client.WithClientRequestTimeout) and below" +
		" the options given here (client.WithRetries, client.WithRequestTimeout, client.WithMethod and those of" +
		" package dubboretry) and on a call (client.WithCallRetries, client.WithCallRequestTimeout). Each attempt of" +
		" a unary call is limited to the timeout that wins, even when the caller's context has a deadline, which" +
		" then bounds the whole call.")
	if b := s.budget; b.Source != NoDefault {
		d.para().text(fmt.Sprintf("Its retries and hedged copies, in this process, have a budget, set by %s: one is made"+
			" only if, counting it, those of the last 10 s number at most %s%% of the service's calls of the last 11 s,"+
			" plus %d; and once five in a row have failed, at most one every 10 s is made, until an attempt succeeds."+
			" A retry the budget refuses is not made, and nothing is charged for one that is not sent.",
			budgetSourceDoc(f, s, b.Source), strconv.FormatFloat(b.Value.Ratio*100, 'g', 6, 64), 10*b.Value.MinRetriesPerSecond))
	}
	if cfg.PublishDefaults && s.hasRetries() {
		d.para().text("Its providers publish the .proto's retries on their URLs (the file was generated with" +
			" publish_defaults), as method values, which beat a client.WithRetries in the URL dubbo-go merges:" +
			" the client gives client.WithRetries to each such method, so that it still beats them.")
	}
	return d.para().
		text("The service gets its own copy of the reference config of cli, so opts do not leak into" +
			" other services created from cli.").
		deprecated(serviceDeprecated(s))
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

// policyDoc documents the .proto retry policy of m, for its doc comment:
// each value once, grouped by the option that set it, then what follows
// from several of them: what a cut attempt does, why a method gets no
// retries, or no hedging.
func policyDoc(f *file, s *service, m *method) string {
	if m.kind.streaming() {
		return "Streaming: the .proto's retry policy applies to unary methods only; dubbo-go neither retries nor times a stream."
	}
	p := m.policy
	if p.empty() {
		return "The .proto declares no retry policy for it: the client's retries and timeout apply" +
			" (dubbo-go's own defaults are 2 retries and 3s)."
	}
	hedged := p.Hedging.Source != NoDefault
	// noRetries: the .proto gives it no retry, so retry_on and backoff take
	// effect only if a caller gives it retries.
	noRetries := !hedged && p.Retries.Source != NoDefault && p.Retries.Retries == 0

	// The values of the policy, by the option that set them, most specific
	// first.
	var clauses [FileOption + 1][]string
	add := func(src Source, clause string) {
		if src != NoDefault {
			clauses[src] = append(clauses[src], clause)
		}
	}
	add(p.Retries.Source, retries(p.Retries.Retries)+" ("+attempts(p.Retries.Retries)+")")
	if h := p.Hedging; hedged {
		add(h.Source, hedgingClause(h.Value))
	}
	add(p.Timeout.Source, p.Timeout.Value.String()+" for each attempt")
	if r := p.RetryOn; r.Source != NoDefault {
		verb := "retried only on "
		switch {
		case hedged:
			verb = "the next copy sent at once after a failure only on "
		case noRetries:
			verb = "retry_on "
		}
		add(r.Source, verb+list(codeNames(r.Value)))
	}
	if b := p.Backoff; b.Source != NoDefault {
		add(b.Source, fmt.Sprintf("a delay before retry n drawn from [0, min(%v, %v x %v^(n-1))]",
			b.Value.Max, b.Value.Initial, b.Value.Multiplier))
	}
	var parts []string
	for src := MethodOption; src <= FileOption; src++ {
		if len(clauses[src]) > 0 {
			parts = append(parts, list(clauses[src])+", from "+sourceDoc(f, s, src))
		}
	}
	var b strings.Builder
	if len(parts) > 0 {
		// Else the .proto only says what does not reach the method.
		b.WriteString("Retry policy from the .proto: " + strings.Join(parts, "; ") + ".")
	}

	switch d := p.Retries; {
	case hedged:
		b.WriteString(" Hedged: a copy goes to a provider not yet tried; the first success wins, and the other copies" +
			" are cancelled.")
		if p.RetriesHedged != NoDefault {
			b.WriteString(" It is hedged rather than retried: the retries of " + sourceDoc(f, s, p.RetriesHedged) +
				" do not reach it.")
		}
	case d.Source == NoDefault:
		b.WriteString(" Its retries are the client's (dubbo-go's own default is 2).")
	case d.NotIdempotent && d.IdempotentOnly == d.Source:
		b.WriteString(" It gets 0 retries because " + sourceDoc(f, s, d.Source) + " gives " + retries(d.Declared) +
			" to idempotent methods only (idempotent_only), and the idempotency_level of this method is neither" +
			" IDEMPOTENT nor NO_SIDE_EFFECTS.")
	case d.NotIdempotent:
		b.WriteString(" It gets 0 retries: " + sourceDoc(f, s, d.Source) + " gives " + retries(d.Declared) +
			", but the idempotent_only of " + sourceDoc(f, s, d.IdempotentOnly) + " keeps them from methods whose" +
			" idempotency_level is neither IDEMPOTENT nor NO_SIDE_EFFECTS, as this one's is.")
	case d.IdempotentOnly != NoDefault:
		b.WriteString(" Its own retries apply, though it is not idempotent: the idempotent_only of " +
			sourceDoc(f, s, d.IdempotentOnly) + " keeps only the retries a service or file gives from such a method.")
	}
	if p.HedgingSkipped != NoDefault {
		b.WriteString(" The hedging of " + sourceDoc(f, s, p.HedgingSkipped) + " does not reach it: its idempotency_level" +
			" is neither IDEMPOTENT nor NO_SIDE_EFFECTS.")
	}
	if noRetries && (p.RetryOn.Source != NoDefault || p.Backoff.Source != NoDefault) {
		b.WriteString(" With 0 retries it is not retried: its retry_on and backoff apply only if a caller gives it" +
			" retries.")
	}
	if p.Timeout.Source != NoDefault {
		b.WriteString(" An attempt that takes longer is cut, and fails with DEADLINE_EXCEEDED")
		lists := p.RetryOn.Source == NoDefault || slices.Contains(p.RetryOn.Value, retryv1.Code_CODE_DEADLINE_EXCEEDED)
		switch {
		case noRetries:
			b.WriteString(".")
		case !lists:
			b.WriteString(", which ends the call: retry_on does not list it.")
		case hedged:
			b.WriteString("; the next copy is sent then.")
		default:
			b.WriteString("; it is retried like the other failures.")
		}
	}
	if s.budget.Source != NoDefault && !noRetries {
		what := "retries count"
		if hedged {
			what = "extra copies count"
		}
		b.WriteString(" Its " + what + " against the budget of the service (see " + s.names.NewClient + ").")
	}
	return strings.TrimPrefix(b.String(), " ")
}

// hedgingClause describes h, for a method's doc comment.
func hedgingClause(h Hedging) string {
	when := h.Delay.String() + " apart"
	if h.Delay == 0 {
		when = "each sent when the one before has taken longer than the " + percentile(h.DelayPercentile) +
			" percentile of its recent latencies in this process"
	}
	return fmt.Sprintf("hedged with up to %d copies in all, %s", h.MaxAttempts, when)
}

// percentile writes p as an ordinal: 95th, 99.9th, 1st, 2nd, 3rd.
func percentile(p float64) string {
	n := strconv.FormatFloat(p, 'f', -1, 64)
	suffix := "th"
	if i := int64(p); float64(i) == p && (i%100 < 11 || i%100 > 13) {
		switch i % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return n + suffix
}

// codeNames are the names of codes, as the docs write them: UNAVAILABLE.
func codeNames(codes []retryv1.Code) []string {
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = strings.TrimPrefix(c.String(), "CODE_")
	}
	return names
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

// emitRetryPolicy writes the .proto's retry policy of s as data: every
// method, each value it declares and the option that set it, and the
// service's budget.
func emitRetryPolicy(w *writer, f *file, s *service) {
	w.doc(new(doc).text(s.names.retryPolicy + " is the retry policy that " + f.commentPath + " declares for " +
		string(s.Desc.FullName()) + ", which " + s.names.NewClient + " hands to dubboretry.Dial."))
	w.P("var ", s.names.retryPolicy, " = ", w.qual(dubboretryPackage.Ident("Service")), "{")
	w.P("Name: ", strconv.Quote(string(s.Desc.FullName())), ",")
	if len(s.methods) > 0 {
		w.P("Methods: []", w.qual(dubboretryPackage.Ident("Method")), "{")
		for _, m := range s.methods {
			fields := methodFields(w, m)
			if len(fields) <= 2 {
				// A method without a policy takes one line.
				var short []string
				for _, c := range fields {
					short = append(short, c.key+" "+strings.TrimSuffix(c.value, ","))
				}
				w.P("{", strings.Join(short, ", "), "},")
				continue
			}
			w.P("{")
			w.aligned(fields...)
			w.P("},")
		}
		w.P("},")
	}
	if b := s.budget; b.Source != NoDefault {
		w.aligned(
			column{"Budget:", w.qual(dubboretryPackage.Ident("Budget")) + "{Ratio: " + strconv.FormatFloat(b.Value.Ratio, 'g', -1, 64) +
				", MinRetriesPerSecond: " + strconv.FormatUint(uint64(b.Value.MinRetriesPerSecond), 10) + "},"},
			column{"BudgetFrom:", sourceIdent(w, b.Source) + ","})
	}
	w.P("}")
	w.P()
}

// methodFields are the fields of the dubboretry.Method that describes m.
func methodFields(w *writer, m *method) []column {
	fields := []column{{"Name:", strconv.Quote(m.wireName) + ","}}
	if m.kind.streaming() {
		return append(fields, column{"Streaming:", "true,"})
	}
	if idempotent(m.Method) {
		fields = append(fields, column{"Idempotent:", "true,"})
	}
	set := func(name, value string, src Source) {
		if src != NoDefault {
			fields = append(fields, column{name + ":", value + ","}, column{name + "From:", sourceIdent(w, src) + ","})
		}
	}
	p := m.policy
	set("Retries", strconv.FormatUint(uint64(p.Retries.Retries), 10), p.Retries.Source)
	if t := p.Timeout; t.Source != NoDefault {
		// durationExpr imports package time: only when it is used.
		set("Timeout", durationExpr(w, t.Value), t.Source)
	}
	if r := p.RetryOn; r.Source != NoDefault {
		codes := make([]string, len(r.Value))
		for i, c := range r.Value {
			codes[i] = w.qual(triplePackage.Ident(tripleCode(c)))
		}
		set("RetryOn", "[]"+w.qual(triplePackage.Ident("Code"))+"{"+strings.Join(codes, ", ")+"}", r.Source)
	}
	if b := p.Backoff; b.Source != NoDefault {
		set("Backoff", w.qual(dubboretryPackage.Ident("Backoff"))+"{Initial: "+durationExpr(w, b.Value.Initial)+
			", Max: "+durationExpr(w, b.Value.Max)+", Multiplier: "+strconv.FormatFloat(b.Value.Multiplier, 'g', -1, 64)+"}", b.Source)
	}
	if h := p.Hedging; h.Source != NoDefault {
		delay := "Delay: " + durationExpr(w, h.Value.Delay)
		if h.Value.Delay == 0 {
			delay = "DelayPercentile: " + strconv.FormatFloat(h.Value.DelayPercentile, 'g', -1, 64)
		}
		set("Hedging", w.qual(dubboretryPackage.Ident("Hedging"))+"{MaxAttempts: "+
			strconv.FormatUint(uint64(h.Value.MaxAttempts), 10)+", "+delay+"}", h.Source)
	}
	return fields
}

// sourceIdent is the constant of dubboretry that names the option src.
func sourceIdent(w *writer, src Source) string {
	name := map[Source]string{MethodOption: "ProtoMethod", ServiceOption: "ProtoService", FileOption: "ProtoFile"}[src]
	return w.qual(dubboretryPackage.Ident(name))
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
