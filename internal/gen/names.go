package gen

import "google.golang.org/protobuf/compiler/protogen"

// Every Go name the generated code declares is built here, from protogen's
// GoName, so that a name changes in one place. The exported ones are those
// of protoc-gen-go-triple (docs/design.md, "What it is"), which users' code
// refers to.

// serviceNames are the names declared for one service.
type serviceNames struct {
	Name        string // GreetServiceName: const, the service's full name
	Client      string // GreetService: the client interface
	ClientImpl  string // GreetServiceImpl
	NewClient   string // NewGreetService
	SetConsumer string // SetConsumerGreetService
	ClientInfo  string // GreetService_ClientInfo
	Handler     string // GreetServiceHandler
	Register    string // RegisterGreetServiceHandler
	SetProvider string // SetProviderGreetService
	ServiceInfo string // GreetService_ServiceInfo
	RetryPolicy string // RetryPolicy: the method of GreetServiceImpl that returns its policy
	retryPolicy string // _GreetService_retryPolicy: the .proto's policy, as data
}

func newServiceNames(s *protogen.Service) serviceNames {
	n := s.GoName
	return serviceNames{
		Name:        n + "Name",
		Client:      n,
		ClientImpl:  n + "Impl",
		NewClient:   "New" + n,
		SetConsumer: "SetConsumer" + n,
		ClientInfo:  n + "_ClientInfo",
		Handler:     n + "Handler",
		Register:    "Register" + n + "Handler",
		SetProvider: "SetProvider" + n,
		ServiceInfo: n + "_ServiceInfo",
		RetryPolicy: "RetryPolicy",
		retryPolicy: "_" + n + "_retryPolicy",
	}
}

// methodNames are the names declared for one method.
type methodNames struct {
	Method    string // GreetStream: the Go method on the client and handler interfaces
	Procedure string // GreetServiceGreetStreamProcedure
	// For streaming methods only: the interfaces the client and the handler
	// see, and the structs that implement them.
	ClientStream     string // GreetService_GreetStreamClient
	ClientStreamImpl string // GreetServiceGreetStreamClient
	ServerStream     string // GreetService_GreetStreamServer
	ServerStreamImpl string // GreetServiceGreetStreamServer
}

func newMethodNames(s *protogen.Service, m *protogen.Method) methodNames {
	svc, meth := s.GoName, m.GoName
	return methodNames{
		Method:           meth,
		Procedure:        svc + meth + "Procedure",
		ClientStream:     svc + "_" + meth + "Client",
		ClientStreamImpl: svc + meth + "Client",
		ServerStream:     svc + "_" + meth + "Server",
		ServerStreamImpl: svc + meth + "Server",
	}
}

// A declaredName is a name the generated code declares at package level,
// and what it is, for messages.
type declaredName struct{ name, kind string }

// declared lists the package-level names declared for a service. The last
// can meet only the same name of a service whose client interface meets
// this one's, which is reported first.
func (n serviceNames) declared() []declaredName {
	return []declaredName{
		{n.Client, "client interface"}, {n.ClientImpl, "client implementation"}, {n.NewClient, "client constructor"},
		{n.SetConsumer, "consumer registration function"}, {n.ClientInfo, "client info variable"},
		{n.Handler, "handler interface"}, {n.Register, "handler registration function"},
		{n.SetProvider, "provider registration function"}, {n.ServiceInfo, "service info variable"},
		{n.Name, "service name constant"},
		{n.retryPolicy, "retry policy variable"},
	}
}

// declared lists the package-level names declared for a method: the
// stream types only for a streaming one.
func (n methodNames) declared(streaming bool) []declaredName {
	names := []declaredName{{n.Procedure, "procedure constant"}}
	if streaming {
		names = append(names,
			declaredName{n.ClientStream, "client stream interface"},
			declaredName{n.ClientStreamImpl, "client stream implementation"},
			declaredName{n.ServerStream, "server stream interface"},
			declaredName{n.ServerStreamImpl, "server stream implementation"})
	}
	return names
}
