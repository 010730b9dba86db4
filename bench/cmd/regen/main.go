// Command regen regenerates the bench module's stubs (proto/) with protoc,
// protoc-gen-go and protoc-gen-go-grpc at the versions go.mod pins as tools,
// and protoc-gen-go-retry built from this repository. Run it from anywhere
// in the bench module:
//
//	go -C bench generate ./...    (or: go -C bench run ./cmd/regen)
package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/dubbo-retry/protoc-gen-go-retry/bench/internal/stubs"
)

func main() {
	dir, err := stubs.ModuleDir()
	if err != nil {
		fail(err)
	}
	files, err := stubs.Generate(dir)
	if err != nil {
		fail(err)
	}
	if err := stubs.Write(dir, files); err != nil {
		fail(err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Printf("wrote %s/%s\n", stubs.ProtoDir, name)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "regen:", err)
	os.Exit(1)
}
