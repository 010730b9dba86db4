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
	walkthrough.ServeFastIfAsked()
	// dubbo-go logs every failed call; the table says what happened.
	logger.SetLoggerLevel("fatal")

	handler := &greetserver.GreetTripleServer{Slow: true}
	addr, stop, err := loopback.Serve(func(srv *server.Server) error {
		return greet.RegisterGreetServiceHandler(srv, handler)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough: starting the server:", err)
		os.Exit(1)
	}
	defer stop()
	fast, stopFast, err := walkthrough.StartFast()
	if err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough: starting the second server:", err)
		os.Exit(1)
	}
	defer stopFast()

	fmt.Printf("GreetService on %s fails the first %d attempts of a call, then answers,\n"+
		"unless the request asks it to fail every attempt (with INVALID_ARGUMENT, or UNAVAILABLE\n"+
		"in an outage) or to take %v over its first. A second server, on %s,\n"+
		"serves the hedging row.\n\n",
		addr, greetserver.Failures, greetserver.SlowAttempt, fast)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results, err := walkthrough.Run(ctx, walkthrough.Servers{Addr: addr, Srv: handler, Fast: fast})
	if err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		os.Exit(1)
	}
	if err := walkthrough.Print(os.Stdout, results); err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		os.Exit(1)
	}
	policy, err := walkthrough.EffectivePolicy(addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough:", err)
		os.Exit(1)
	}
	fmt.Printf("\nThe effective policy of GreetService created with client.WithClientRetries(1),\n"+
		"client.WithClientRequestTimeout(2s), then client.WithMethod(GreetRetry, Retries: \"5\"),\n"+
		"client.WithRequestTimeout(1s) and dubboretry.WithMethodBackoff(\"GreetRetry\", 10ms, 0, 0)\n"+
		"(dubboretry.PolicyOf(svc)):\n\n%s", policy)
	for _, r := range results {
		if !r.OK() {
			os.Exit(1)
		}
	}
}
