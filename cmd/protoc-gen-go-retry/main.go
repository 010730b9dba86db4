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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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

  protoc -I . -I <dir holding retry/v1/retry.proto: see --write-options> \
      --go_out=. --go_opt=paths=source_relative \
      --go-retry_out=. --go-retry_opt=paths=source_relative \
      greet.proto

Parameters (--go-retry_opt, or opt: in buf.gen.yaml), comma-separated:
  paths=import|source_relative  where output files go, as for protoc-gen-go
  module=PREFIX                 strip PREFIX from output paths, as for protoc-gen-go
  M<file>=<go import path>      the Go package of a .proto file, as for protoc-gen-go
  max_retries=N                 refuse retries above N in any option (default 10)

Flags:
  --version                      print the version
  --help                         print this message
  --write-options DIR [--force]  write retry/v1/retry.proto, the options file, below DIR
                                 (DIR/retry/v1/retry.proto), for protoc's or buf's import
                                 path. A copy already there is replaced if it is one that
                                 a release wrote, and kept if it was edited by hand,
                                 unless --force is given.
`

func main() {
	// protoc runs the plugin without arguments; a person runs it with one
	// of the flags.
	if len(os.Args) > 1 {
		os.Exit(command(os.Args[1:], os.Stdout, os.Stderr))
	}
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "protoc-gen-go-retry: %v\n", err)
		os.Exit(1)
	}
}

// command carries out the flags given on the command line and returns the
// exit code.
func command(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 1 && args[0] == "--version":
		fmt.Fprintln(stdout, "protoc-gen-go-retry", version)
		return 0
	case len(args) == 1 && (args[0] == "--help" || args[0] == "-h"):
		fmt.Fprint(stdout, usage)
		return 0
	}
	if slices.ContainsFunc(args, isWriteOptions) || slices.Contains(args, "--force") {
		dir, force, err := writeOptionsArgs(args)
		if err != nil {
			fmt.Fprintf(stderr, "protoc-gen-go-retry: %v\nusage: protoc-gen-go-retry --write-options DIR [--force] (see --help)\n", err)
			return 2
		}
		return writeOptions(stdout, stderr, dir, force)
	}
	fmt.Fprintf(stderr, "protoc-gen-go-retry: unknown arguments %q: this program is run by protoc or buf (see --help)\n", args)
	return 2
}

func isWriteOptions(arg string) bool {
	return arg == "--write-options" || strings.HasPrefix(arg, "--write-options=")
}

// writeOptionsArgs reads the arguments of --write-options: DIR, given as
// the next argument or after "=", and --force, before or after it.
func writeOptionsArgs(args []string) (dir string, force bool, err error) {
	seen := false
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--force":
			force = true
		case isWriteOptions(arg):
			if seen {
				return "", false, errors.New("--write-options is given twice")
			}
			seen = true
			if value, ok := strings.CutPrefix(arg, "--write-options="); ok {
				dir = value
			} else if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				dir = args[i+1]
				i++
			}
			if dir == "" {
				return "", false, errors.New("--write-options needs the directory DIR to write DIR/retry/v1/retry.proto in")
			}
		default:
			return "", false, fmt.Errorf("unknown argument %q to --write-options", arg)
		}
	}
	if !seen {
		return "", false, errors.New("--force goes with --write-options DIR")
	}
	return dir, force, nil
}

// writeOptions writes the options file bundled in the plugin below dir, at
// its import path, and says what it did. A copy already there is replaced
// if it is the retry.proto of a release (options.Releases), and kept,
// unless force, if it is anything else: a copy edited by hand, or one that
// a newer plugin wrote.
func writeOptions(stdout, stderr io.Writer, dir string, force bool) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "protoc-gen-go-retry: %v\n", err)
		return 1
	}
	src, err := bundled.FS.ReadFile(bundled.RetryProto)
	if err != nil {
		return fail(err)
	}
	ours := optionsVersion(src)
	path := filepath.Join(dir, filepath.FromSlash(bundled.RetryProto))
	old, err := os.ReadFile(path)
	var did string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		did = fmt.Sprintf("wrote %s (%s)\nPut %s on the import path: protoc -I %s, or a module at %s in buf.yaml.", path, ours, dir, shellQuote(dir), dir)
	case err != nil:
		return fail(err)
	case bundled.Hash(old) == bundled.Hash(src):
		fmt.Fprintf(stdout, "protoc-gen-go-retry: %s is already current (%s); left it as it is\n", path, ours)
		return 0
	default:
		if r, ok := bundled.Released(old); ok {
			did = fmt.Sprintf("replaced %s of %s with that of %s", path, r.Version, ours)
		} else if force {
			did = fmt.Sprintf("replaced %s, which no release wrote (--force), with that of %s", path, ours)
		} else {
			fmt.Fprintf(stderr, "protoc-gen-go-retry: %s was edited by hand, or written by a newer protoc-gen-go-retry: "+
				"it is none of the retry.proto files released up to %s. Left it as it is. "+
				"To replace it with that of %s, losing what differs, run\n"+
				"\tprotoc-gen-go-retry --write-options %s --force\n", path, version, ours, shellQuote(dir))
			return 1
		}
	}
	if err := writeFile(path, src); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "protoc-gen-go-retry: %s\n", did)
	return 0
}

// optionsVersion returns the version of the bundled retry.proto, src: that
// of the release that shipped it or, for a retry.proto not yet recorded in
// options.Releases, this plugin's with "-dev".
func optionsVersion(src []byte) string {
	if r, ok := bundled.Released(src); ok {
		return r.Version
	}
	return version + "-dev"
}

// writeFile writes content to path, creating its directory, so that path
// holds either its old content or the new one, never a part of it.
func writeFile(path string, content []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".retry.proto-*")
	if err != nil {
		return err
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// shellQuote quotes s for a POSIX shell, if it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
