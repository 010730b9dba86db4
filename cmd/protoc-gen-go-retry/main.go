// protoc-gen-go-retry is a protoc and buf plugin that generates dubbo-go
// Triple bindings (<file>.triple.go), a drop-in replacement for those of
// protoc-gen-go-triple whose constructors apply the retry defaults declared
// in the .proto with the options of retry/v1/retry.proto.
//
// Run it from protoc:
//
//	protoc --go_out=. --go_opt=paths=source_relative \
//	    --go-retry_out=. --go-retry_opt=paths=source_relative greet.proto
//
// or list it in buf.gen.yaml. Run protoc-gen-go-retry --help for its
// parameters.
package main

import (
	"fmt"
	"os"
)

// version is the plugin's version, printed by --version and written in the
// header of every generated file.
const version = "v0.1.0"

const usage = `protoc-gen-go-retry ` + version + `: generates dubbo-go Triple bindings that apply the
retry defaults declared in .proto files with the options of retry/v1/retry.proto.

It is run by protoc or buf, which send it a CodeGeneratorRequest on standard
input; it writes <file>.triple.go beside protoc-gen-go's <file>.pb.go.

  protoc -I . -I <dir holding retry/v1/retry.proto> \
      --go_out=. --go_opt=paths=source_relative \
      --go-retry_out=. --go-retry_opt=paths=source_relative \
      greet.proto

Parameters (--go-retry_opt, or opt: in buf.gen.yaml), comma-separated:
  paths=import|source_relative  where output files go, as for protoc-gen-go
  module=PREFIX                 strip PREFIX from output paths, as for protoc-gen-go
  M<file>=<go import path>      the Go package of a .proto file, as for protoc-gen-go
  max_retries=N                 refuse retries above N in any option (default 10)

Flags:
  --version  print the version
  --help     print this message
`

func main() {
	if len(os.Args) == 2 {
		switch os.Args[1] {
		case "--version":
			fmt.Println("protoc-gen-go-retry", version)
			return
		case "--help", "-h", "-help":
			fmt.Print(usage)
			return
		}
	}
	if len(os.Args) > 1 {
		fmt.Fprintf(os.Stderr, "protoc-gen-go-retry: unknown argument %q: this program is run by protoc or buf (see --help)\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "protoc-gen-go-retry: %v\n", err)
		os.Exit(1)
	}
}
