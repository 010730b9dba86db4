// Command server serves the Greet service on a port, as the server of
// dubbo-go's retry sample does, and logs every attempt of its methods but
// Greet.
package main

import (
	"flag"
	"log"

	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol"
	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

func main() {
	port := flag.Int("port", 20000, "the port to serve on")
	flag.Parse()

	srv, err := server.NewServer(server.WithServerProtocol(protocol.WithPort(*port)))
	if err != nil {
		log.Fatal(err)
	}
	handler := &greetserver.GreetTripleServer{
		OnAttempt: func(method, name string, attempt int, err error) {
			if err != nil {
				log.Printf("%s(%q): attempt %d fails: %v", method, name, attempt, err)
				return
			}
			log.Printf("%s(%q): attempt %d succeeds", method, name, attempt)
		},
	}
	if err := greet.RegisterGreetServiceHandler(srv, handler); err != nil {
		log.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		log.Fatal(err)
	}
}
