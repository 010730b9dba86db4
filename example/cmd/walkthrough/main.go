// Command walkthrough starts the Greet server on a free loopback port and
// calls it through each layer of dubbo-go's retry settings and each part of
// greet.proto's retry policy, printing the attempts the server saw. It
// exits 1 if any row did not do what the walkthrough expects.
//
// With -metrics 127.0.0.1:0 it also records the metrics of dubboretry with
// OpenTelemetry's SDK, installed as the global MeterProvider before the
// walkthrough runs, serves them in Prometheus's format on that loopback
// address (port 0: a free one), prints them after the table, and keeps
// serving them until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"dubbo.apache.org/dubbo-go/v3/server"
	"go.opentelemetry.io/otel"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/metrics"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/walkthrough"
)

var metricsAddr = flag.String("metrics", "", "serve the metrics of dubboretry in Prometheus's format at http://`ADDR`/metrics, a loopback address (127.0.0.1:0: a free port), until interrupted")

func main() {
	// This also makes dubbo-go log fatal errors only: it logs every failed
	// call, and the table says what happened.
	walkthrough.ServeFastIfAsked()
	flag.Parse()

	var prom *metrics.Server
	if *metricsAddr != "" {
		var err error
		if prom, err = metrics.Serve(*metricsAddr); err != nil {
			fmt.Fprintln(os.Stderr, "walkthrough:", err)
			os.Exit(1)
		}
		otel.SetMeterProvider(prom.Provider)
		fmt.Printf("The metrics of dubboretry: %s\n\n", prom.URL)
	}

	handler := &greetserver.GreetTripleServer{Slow: true}
	addr, stop, err := testbed.Serve(func(srv *server.Server) error {
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
	code := 0
	for _, r := range results {
		if !r.OK() {
			code = 1
		}
	}
	if prom != nil {
		serveMetrics(prom)
	}
	if code != 0 {
		os.Exit(code)
	}
}

// serveMetrics prints the runtime's series that prom serves, and serves
// them until the process is interrupted.
func serveMetrics(prom *metrics.Server) {
	series, err := prom.Series()
	if err != nil {
		fmt.Fprintln(os.Stderr, "walkthrough: reading the metrics:", err)
		return
	}
	fmt.Printf("\nGET %s (without the histograms' buckets):\n%s\n\n", prom.URL, strings.Join(series, "\n"))
	fmt.Printf("Serving %s until interrupted (Ctrl-C).\n", prom.URL)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	<-ctx.Done()
	prom.Close()
}
