package gen

import (
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
)

// Every Go name the generated code declares is built here, from protogen's
// GoName, so that a name changes in one place. The exported ones are those
// of protoc-gen-go-triple (docs/design.md, "What it is"), which users' code
// refers to.

// fileNames are the names declared once per generated file.
type fileNames struct {
	// retryOptions wraps the options given to a NewXxxService constructor
	// of this file. It is named after the file, as protoc-gen-go names its
	// per-file declarations, so that several files can share a package.
	retryOptions string // file_greet_proto_retryOptions
}

func newFileNames(f *protogen.File) fileNames {
	// GoDescriptorIdent is protoc-gen-go's exported File_greet_proto.
	return fileNames{retryOptions: "f" + strings.TrimPrefix(f.GoDescriptorIdent.GoName, "F") + "_retryOptions"}
}

// serviceNames are the names declared for one service.
type serviceNames struct {
	Name          string // GreetServiceName: const, the service's full name
	Client        string // GreetService: the client interface
	ClientImpl    string // GreetServiceImpl
	NewClient     string // NewGreetService
	SetConsumer   string // SetConsumerGreetService
	ClientInfo    string // GreetService_ClientInfo
	Handler       string // GreetServiceHandler
	Register      string // RegisterGreetServiceHandler
	SetProvider   string // SetProviderGreetService
	ServiceInfo   string // GreetService_ServiceInfo
	retryDefaults string // _GreetService_retryDefaults: the .proto defaults
}

func newServiceNames(s *protogen.Service) serviceNames {
	n := s.GoName
	return serviceNames{
		Name:          n + "Name",
		Client:        n,
		ClientImpl:    n + "Impl",
		NewClient:     "New" + n,
		SetConsumer:   "SetConsumer" + n,
		ClientInfo:    n + "_ClientInfo",
		Handler:       n + "Handler",
		Register:      "Register" + n + "Handler",
		SetProvider:   "SetProvider" + n,
		ServiceInfo:   n + "_ServiceInfo",
		retryDefaults: "_" + n + "_retryDefaults",
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
