// Command peers runs the peer comparison of docs/policies.md ("The budget"): the Triple client
// that protoc-gen-go-retry generates (dubbo-go v3.3.2, with the runtime
// dubboretry and the budget its .proto declares) and a grpc-go client (with
// the same retry policy and retryThrottling), on the same scenarios against
// the same three providers on 127.0.0.1, and prints the table. From the
// repository's root:
//
//	go -C bench run ./cmd/peers
//
// It takes about a minute, and stops its processes when it ends.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/dubbo-retry/protoc-gen-go-retry/bench/internal/peers"
)

func main() {
	// A provider or client process of the comparison becomes that here.
	peers.Main()

	c := peers.Default
	flag.IntVar(&c.Calls, "calls", c.Calls, "calls of each row that is not paced")
	flag.IntVar(&c.PacedCalls, "paced-calls", c.PacedCalls, "calls of the paced outage")
	flag.Float64Var(&c.Rate, "rate", c.Rate, "calls a second of the paced outage")
	flag.IntVar(&c.OutageCalls, "outage-calls", c.OutageCalls, "calls of the outage before the 10%-failing phase")
	flag.IntVar(&c.Goroutines, "goroutines", c.Goroutines, "goroutines of each client")
	flag.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the providers' random failures")
	verbose := flag.Bool("v", false, "print the processes' logs on standard error")
	flag.Parse()
	if c.Calls < 1 || c.PacedCalls < 1 || c.OutageCalls < 1 || c.Goroutines < 1 || c.Rate <= 0 {
		fmt.Fprintln(os.Stderr, "peers: counts, goroutines and rate must be positive")
		os.Exit(2)
	}
	if *verbose {
		c.Log = os.Stderr
	}
	peers.RunCommand("peers", "starting 3 providers, then a client process per scenario and client...",
		func() (*peers.Report, error) { return peers.Run(c) })
}
