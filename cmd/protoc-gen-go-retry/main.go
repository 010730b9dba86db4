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
	"path/filepath"
	"strings"

	bundled "github.com/dubbo-retry/protoc-gen-go-retry/options"
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
  --version              print the version
  --help                 print this message
  --write-options DIR    write retry/v1/retry.proto, the options file, below DIR
                         (DIR/retry/v1/retry.proto), for protoc's or buf's import path
`

func main() {
	// protoc runs the plugin without arguments; a person runs it with one
	// of the flags.
	if len(os.Args) > 1 {
		os.Exit(command(os.Args[1:]))
	}
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "protoc-gen-go-retry: %v\n", err)
		os.Exit(1)
	}
}

// command carries out the flags given on the command line and returns the
// exit code.
func command(args []string) int {
	switch {
	case len(args) == 1 && args[0] == "--version":
		fmt.Println("protoc-gen-go-retry", version)
		return 0
	case len(args) == 1 && (args[0] == "--help" || args[0] == "-h"):
		fmt.Print(usage)
		return 0
	case len(args) == 2 && args[0] == "--write-options":
		return writeOptions(args[1])
	case len(args) == 1 && strings.HasPrefix(args[0], "--write-options="):
		return writeOptions(strings.TrimPrefix(args[0], "--write-options="))
	}
	fmt.Fprintf(os.Stderr, "protoc-gen-go-retry: unknown arguments %q: this program is run by protoc or buf (see --help)\n", args)
	return 2
}

// writeOptions writes the options file bundled in the plugin below dir, at
// its import path.
func writeOptions(dir string) int {
	src, err := bundled.FS.ReadFile(bundled.RetryProto)
	if err == nil {
		path := filepath.Join(dir, filepath.FromSlash(bundled.RetryProto))
		if err = os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			err = os.WriteFile(path, src, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "protoc-gen-go-retry: %v\n", err)
		return 1
	}
	return 0
}
