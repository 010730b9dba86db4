package snippets

import (
	"dubbo.apache.org/dubbo-go/v3"
	"dubbo.apache.org/dubbo-go/v3/metadata"
	"dubbo.apache.org/dubbo-go/v3/protocol"
	"dubbo.apache.org/dubbo-go/v3/registry"
	"dubbo.apache.org/dubbo-go/v3/server"

	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

// The setup of docs/registries.md, for providers and consumers that find
// each other through ZooKeeper. It builds; example/internal/registry runs
// the same setup, on free ports, through a real ZooKeeper.

// newInstance is the setup shared by providers and consumers.
func newInstance() (*dubbo.Instance, error) {
	ins, err := dubbo.NewInstance(
		dubbo.WithName("shop"),
		dubbo.WithRegistry(
			registry.WithZookeeper(),
			registry.WithAddress("127.0.0.1:2181"),
			registry.WithRegisterInterface(), // interface-level registration
		),
		// Metadata in ZooKeeper, in a group of its own: with the default, local
		// metadata, dubbo-go serves it on a random port of every interface.
		dubbo.WithRemoteMetadata(),
		dubbo.WithMetadataReport(
			metadata.WithZookeeper(),
			metadata.WithAddress("127.0.0.1:2181"),
			metadata.WithGroup("dubbo-metadata"),
		),
	)
	return ins, err
}

// serve is a provider.
func serve(ins *dubbo.Instance, handler greet.GreetServiceHandler) error {
	srv, err := ins.NewServer(server.WithServerProtocol(
		protocol.WithTriple(),
		protocol.WithIp("127.0.0.1"),
		protocol.WithPort(20000),
	))
	if err != nil {
		return err
	}
	if err := greet.RegisterGreetServiceHandler(srv, handler); err != nil {
		return err
	}
	return srv.Serve()
}

// consume is a consumer, in a process of its own.
func consume(ins *dubbo.Instance) (greet.GreetService, error) {
	cli, err := ins.NewClient()
	if err != nil {
		return nil, err
	}
	return greet.NewGreetService(cli) // the .proto's policy applies
}
