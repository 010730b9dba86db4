// Command hedge runs the hedging measurement of docs/policies.md ("Hedging"): the Triple
// client that protoc-gen-go-retry generates (dubbo-go v3.3.2, with the
// runtime dubboretry) calls the three methods of hedge.v1.HedgeService
// (hedge.proto: Plain, no hedging; Fixed, hedged after 20 ms; Adaptive,
// hedged after the 95th percentile of its latencies) against three
// providers on 127.0.0.1 where any attempt takes 200 ms with probability
// 3%, and prints each row's p50, p99, p99.9 and attempts a call. From the
// repository's root:
//
//	go -C bench run ./cmd/hedge
//
// It takes about 15 seconds, and stops its processes when it ends.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/dubbo-retry/protoc-gen-go-retry/bench/internal/peers"
)

func main() {
	// A provider or client process of the measurement becomes that here.
	peers.Main()

	c := peers.HedgeDefault
	flag.IntVar(&c.Calls, "calls", c.Calls, "calls of each row")
	flag.IntVar(&c.Goroutines, "goroutines", c.Goroutines, "goroutines of each client")
	flag.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the providers' slow attempts (with each provider's index)")
	slowPercent := flag.Float64("slow-percent", 100*c.SlowProbability, "percentage of the attempts that are slow")
	flag.DurationVar(&c.SlowDelay, "slow", c.SlowDelay, "how long a slow attempt takes")
	verbose := flag.Bool("v", false, "print the processes' logs on standard error")
	flag.Parse()
	c.SlowProbability = *slowPercent / 100
	switch {
	case c.Calls < 1 || c.Calls > 1_000_000 || c.Goroutines < 1 || c.Goroutines > 1000:
		fail(2, "calls must be from 1 to 1,000,000, goroutines from 1 to 1,000")
	case !(*slowPercent >= 0 && *slowPercent <= 100):
		fail(2, "slow-percent must be from 0 to 100")
	case c.SlowDelay < 0 || c.SlowDelay > time.Minute:
		fail(2, "slow must be from 0 to 1m")
	}
	if *verbose {
		c.Log = os.Stderr
	}
	peers.RunCommand("hedge", "starting 3 providers, then a client process per row...",
		func() (*peers.HedgeReport, error) { return peers.RunHedge(c) })
}

func fail(status int, v any) {
	fmt.Fprintln(os.Stderr, "hedge:", v)
	os.Exit(status)
}
