package gen

// The dubbo-go names that differ by call kind.

// call is the client.Connection method that makes a call of kind k, and the
// constant.CallType that tells dubbo-go the kind of a served method.
func (k kind) call() string {
	switch k {
	case clientStreaming:
		return "CallClientStream"
	case serverStreaming:
		return "CallServerStream"
	case bidiStreaming:
		return "CallBidiStream"
	}
	return "CallUnary"
}

// clientStreamType is the triple_protocol type of the client's end of a
// stream of kind k.
func (k kind) clientStreamType() string {
	switch k {
	case clientStreaming:
		return "ClientStreamForClient"
	case serverStreaming:
		return "ServerStreamForClient"
	}
	return "BidiStreamForClient"
}

// serverStreamType is the triple_protocol type of the handler's end of a
// stream of kind k.
func (k kind) serverStreamType() string {
	switch k {
	case clientStreaming:
		return "ClientStream"
	case serverStreaming:
		return "ServerStream"
	}
	return "BidiStream"
}

// A streamEnd is one end of a streaming method, as the generated code gives
// it to the client or the handler: an interface, and a struct that
// implements it by embedding dubbo-go's stream and adding typed methods.
// Both ends are written by emitStreamEnd; streamEnds says how they differ.
type streamEnd struct {
	iface, impl string
	embedded    string   // the triple_protocol stream type, qualified
	field       string   // its name as an embedded field
	recv        string   // the receiver's name
	msg         string   // the local that holds a received message in Msg
	methods     []string // the interface, in protoc-gen-go-triple's order

	send    string // the type of the messages this end sends, if it sends a stream
	receive string // the type of the messages this end receives, if it receives a stream
	// bidi: this end receives with Recv() (*T, error), not with Recv() bool
	// and Msg().
	bidi bool
	// valueRecv: Recv has a value receiver, as protoc-gen-go-triple declares
	// it on the handler's end of a bidirectional stream, so that the method
	// sets match.
	valueRecv    bool
	closeAndRecv string // the response type, on the client's end of a client stream
	conn         string // the Conn method that forwards to the stream's, if it has one
}

// streamEnds returns the client's and the handler's ends of streaming
// method m.
func streamEnds(w *writer, m *method) (client, server streamEnd) {
	spec := "Spec() " + w.qual(triplePackage.Ident("Spec"))
	peer := "Peer() " + w.qual(triplePackage.Ident("Peer"))
	header := w.qual(httpPackage.Ident("Header"))
	clientConn := "Conn() (" + w.qual(triplePackage.Ident("StreamingClientConn")) + ", error)"
	serverConn := "Conn() " + w.qual(triplePackage.Ident("StreamingHandlerConn"))
	end := func(iface, impl, streamType, recv string) streamEnd {
		return streamEnd{
			iface: iface, impl: impl, recv: recv, msg: m.local.msg,
			field: streamType, embedded: w.qual(triplePackage.Ident(streamType)),
		}
	}
	client = end(m.names.ClientStream, m.names.ClientStreamImpl, m.kind.clientStreamType(), m.local.cli)
	server = end(m.names.ServerStream, m.names.ServerStreamImpl, m.kind.serverStreamType(), m.local.srv)
	switch m.kind {
	case bidiStreaming:
		client.methods = []string{spec, peer, "Send(*" + m.in + ") error", "RequestHeader() " + header,
			"CloseRequest() error", "Recv() (*" + m.out + ", error)", "ResponseHeader() " + header,
			"ResponseTrailer() " + header, "CloseResponse() error"}
		client.send, client.receive, client.bidi = m.in, m.out, true
		server.methods = []string{"Send(*" + m.out + ") error", "Recv() (*" + m.in + ", error)", spec, peer,
			"RequestHeader() " + header, "ResponseHeader() " + header, "ResponseTrailer() " + header, serverConn}
		server.send, server.receive, server.bidi, server.valueRecv = m.out, m.in, true, true
	case clientStreaming:
		client.methods = []string{spec, peer, "Send(*" + m.in + ") error", "RequestHeader() " + header,
			"CloseAndRecv() (*" + m.out + ", error)", clientConn}
		client.send, client.closeAndRecv, client.conn = m.in, m.out, clientConn
		server.methods = []string{spec, peer, "Recv() bool", "RequestHeader() " + header,
			"Msg() *" + m.in, "Err() error", serverConn}
		server.receive = m.in
	case serverStreaming:
		client.methods = []string{"Recv() bool", "ResponseHeader() " + header,
			"ResponseTrailer() " + header, "Msg() *" + m.out, "Err() error", clientConn, "Close() error"}
		client.receive, client.conn = m.out, clientConn
		server.methods = []string{"Send(*" + m.out + ") error", "ResponseHeader() " + header,
			"ResponseTrailer() " + header, serverConn}
		server.send = m.out
	}
	return client, server
}

// emitStreamEnd writes the interface and struct of one end of a stream,
// and the struct's methods: those that send and receive typed messages,
// and those that forward to the embedded stream where the interface's
// signature differs from the embedded one's.
func emitStreamEnd(w *writer, end streamEnd) {
	emitInterface(w, end.iface, end.methods...)
	w.P("type ", end.impl, " struct {")
	w.P("*", end.embedded)
	w.P("}")
	w.P()

	x, stream := end.recv, end.recv+"."+end.field
	method := "func (" + x + " *" + end.impl + ") "
	if end.send != "" {
		w.P(method, "Send(msg *", end.send, ") error {")
		w.P("return ", stream, ".Send(msg)")
		w.P("}")
		w.P()
	}
	switch {
	case end.receive != "" && end.bidi:
		if end.valueRecv {
			w.P("func (", x, " ", end.impl, ") Recv() (*", end.receive, ", error) {")
		} else {
			w.P(method, "Recv() (*", end.receive, ", error) {")
		}
		w.P("msg := new(", end.receive, ")")
		w.P("if err := ", stream, ".Receive(msg); err != nil {")
		w.P("return nil, err")
		w.P("}")
		w.P("return msg, nil")
		w.P("}")
		w.P()
	case end.receive != "":
		// Msg refers to the message type after declaring its local, which
		// must not hide the type's package.
		msg := end.msg
		w.P(method, "Recv() bool {")
		w.P("msg := new(", end.receive, ")")
		w.P("return ", stream, ".Receive(msg)")
		w.P("}")
		w.P()
		w.P(method, "Msg() *", end.receive, " {")
		w.P(msg, " := ", stream, ".Msg()")
		w.P("if ", msg, " == nil {")
		w.P("return new(", end.receive, ")")
		w.P("}")
		w.P("return ", msg, ".(*", end.receive, ")")
		w.P("}")
		w.P()
	}
	if end.closeAndRecv != "" {
		w.P(method, "CloseAndRecv() (*", end.closeAndRecv, ", error) {")
		w.P("msg := new(", end.closeAndRecv, ")")
		w.P("resp := ", w.qual(triplePackage.Ident("NewResponse")), "(msg)")
		w.P("if err := ", stream, ".CloseAndReceive(resp); err != nil {")
		w.P("return nil, err")
		w.P("}")
		w.P("return msg, nil")
		w.P("}")
		w.P()
	}
	if end.conn != "" {
		w.P(method, end.conn, " {")
		w.P("return ", stream, ".Conn()")
		w.P("}")
		w.P()
	}
}
