// Command demo is the example's one command: it builds protoc-gen-go-retry
// from source, regenerates proto/greet.pb.go and proto/greet.triple.go from
// proto/greet.proto, and runs the walkthrough against a Greet server on a
// free loopback port. Run it from the repository root with
//
//	go -C example run ./cmd/demo
//
// With -metrics 127.0.0.1:0, the walkthrough also serves the metrics of
// dubboretry in Prometheus's format, through OpenTelemetry's SDK installed
// as the global MeterProvider, on that loopback address (port 0: a free
// one); it prints the address, and the metrics after its table, and serves
// them until interrupted (Ctrl-C).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

const protoDir = "proto"

var metricsAddr = flag.String("metrics", "", "serve the metrics of dubboretry in Prometheus's format at http://`ADDR`/metrics, a loopback address (127.0.0.1:0: a free port), until interrupted")

func main() {
	flag.Parse()
	if _, err := os.Stat(protoDir + "/" + tempmod.GreetProto); err != nil {
		fail("run me from the example directory: go -C example run ./cmd/demo (%v)", err)
	}
	fmt.Println("Building protoc-gen-go and protoc-gen-go-retry from source and regenerating the stubs...")
	files, err := tempmod.Regenerate(protoDir)
	if err != nil {
		fail("%v", err)
	}
	if err := protoc.Write(protoDir, files); err != nil {
		fail("%v", err)
	}
	for _, f := range files {
		fmt.Printf("  wrote %s/%s\n", protoDir, f.GetName())
	}
	fmt.Println()

	// The walkthrough is built now, so that it runs the stubs just written.
	// It runs in a process of its own, so it serves the metrics.
	args := []string{"run", "./cmd/walkthrough"}
	if *metricsAddr != "" {
		args = append(args, "-metrics", *metricsAddr)
		// Ctrl-C ends the walkthrough's serving, which then exits: wait
		// for it.
		signal.Notify(make(chan os.Signal, 1), os.Interrupt)
	}
	walk := exec.Command(tempmod.GoCommand(), args...)
	walk.Stdout, walk.Stderr = os.Stdout, os.Stderr
	if err := walk.Run(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			os.Exit(exit.ExitCode())
		}
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "demo: "+format+"\n", args...)
	os.Exit(1)
}
