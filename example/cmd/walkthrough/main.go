// Command walkthrough starts the Greet server on a free loopback port and
// calls it through each layer of dubbo-go's retry settings and each part of
// greet.proto's retry policy, printing the attempts the server saw. It
// exits 1 if any row did not do what the walkthrough expects.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"dubbo.apache.org/dubbo-go/v3/server"
	"github.com/dubbogo/gost/log/logger"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/loopback"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/walkthrough"
)

func main() {
	// dubbo-go logs every failed call; the table says what happened.
	logger.SetLoggerLevel("fatal")

	handler := &greetserver.GreetTripleServer{}
	addr, stop, err := loopback.Serve(func(srv *server.Server) error {
		return greet.RegisterGreetServiceHandler(srv, handler)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough: starting the server:", err)
		os.Exit(1)
	}
	defer stop()

	fmt.Printf("GreetService on %s fails the first %d attempts of a call, then answers,\n"+
		"unless the request asks it to fail every attempt (with INVALID_ARGUMENT, or UNAVAILABLE\n"+
		"in an outage) or to take %v over its first.\n\n",
		addr, greetserver.Failures, greetserver.SlowAttempt)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results, err := walkthrough.Run(ctx, addr, handler)
	if err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		os.Exit(1)
	}
	if err := walkthrough.Print(os.Stdout, results); err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		os.Exit(1)
	}
	for _, r := range results {
		if !r.OK() {
			os.Exit(1)
		}
	}
}
