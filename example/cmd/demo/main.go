// Command demo is the example's one command: it builds protoc-gen-go-retry
// from source, regenerates proto/greet.pb.go and proto/greet.triple.go from
// proto/greet.proto, and runs the walkthrough against a Greet server on a
// free loopback port. Run it from the repository root with
//
//	go -C example run ./cmd/demo
package main

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/regen"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

const protoDir = "proto"

func main() {
	if _, err := os.Stat(protoDir + "/" + regen.Source); err != nil {
		fail("run me from the example directory: go -C example run ./cmd/demo (%v)", err)
	}
	fmt.Println("Building protoc-gen-go and protoc-gen-go-retry from source and regenerating the stubs...")
	files, err := regen.Files(protoDir)
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
	walk := exec.Command("go", "run", "./cmd/walkthrough")
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
