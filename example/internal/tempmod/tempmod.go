// Package tempmod builds Go from this checkout as a user would: it runs the
// go command, makes temporary modules as a user's would be, for the tests
// that build generated code against dubbo-go (internal/docs,
// internal/fuzzbuild): a module that requires what the example module
// requires, at the same versions, with this checkout for
// protoc-gen-go-retry; it builds the plugin from this checkout, and
// regenerates the example's code from greet.proto (regen.go), for the
// demo.
package tempmod

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Timeout bounds a go command that Go runs: the first build of dubbo-go,
// on a cold cache, takes minutes.
const Timeout = 10 * time.Minute

// GoCommand is the go command that runs the tests: the one on PATH, or
// else the one of the Go that built them.
func GoCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// Command returns the go command with args, to run in dir as in a user's
// module: on its own, without a workspace (GOWORK=off).
func Command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, GoCommand(), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	return cmd
}

// Go runs the go command with args in dir, for at most Timeout, and
// returns its standard output; its error holds the standard error.
func Go(dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := Command(ctx, dir, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, stderr.Bytes())
	}
	return stdout.String(), nil
}

// New makes dir the root of a module named path that requires what the
// example module requires, at the same versions, with the checkout at root
// as github.com/dubbo-retry/protoc-gen-go-retry (and its dubboretry): what
// a user's module holds after go get and go mod tidy, with nothing to
// download.
func New(dir, path, root string) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, "example", f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return err
		}
	}
	_, err = Go(dir, "mod", "edit", "-module", path,
		"-replace", "github.com/dubbo-retry/protoc-gen-go-retry="+root,
		"-replace", "github.com/dubbo-retry/protoc-gen-go-retry/dubboretry="+filepath.Join(root, "dubboretry"))
	return err
}

// BuildPlugin builds protoc-gen-go-retry from this checkout into dir, and
// returns its path.
func BuildPlugin(dir string) (string, error) {
	path := filepath.Join(dir, "protoc-gen-go-retry")
	if _, err := Go(".", "build", "-o", path, "github.com/dubbo-retry/protoc-gen-go-retry/cmd/protoc-gen-go-retry"); err != nil {
		return "", fmt.Errorf("building protoc-gen-go-retry: %v", err)
	}
	return path, nil
}
