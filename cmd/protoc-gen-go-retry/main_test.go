package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

var binary struct {
	once sync.Once
	dir  string // removed by TestMain
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// pluginBinary builds the plugin once per test run and returns its path.
func pluginBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "protoc-gen-go-retry-test")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "protoc-gen-go-retry")
		out, err := exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput()
		if err != nil {
			binary.err = errors.New(string(out))
		}
	})
	if binary.err != nil {
		t.Fatalf("building the plugin: %v", binary.err)
	}
	return binary.path
}

// runPlugin runs the plugin binary with args and stdin, as protoc would.
func runPlugin(t *testing.T, stdin []byte, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(pluginBinary(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestVersionAndHelp(t *testing.T) {
	stdout, _, code := runPlugin(t, nil, "--version")
	if stdout != "protoc-gen-go-retry "+version+"\n" || code != 0 {
		t.Errorf("--version: %q, exit %d; want %q, exit 0", stdout, code, "protoc-gen-go-retry "+version+"\n")
	}
	stdout, _, code = runPlugin(t, nil, "--help")
	if stdout != usage || code != 0 {
		t.Errorf("--help: %q, exit %d; want the usage, exit 0", stdout, code)
	}
	for _, param := range []string{"paths=", "module=", "M<file>=", "max_retries=N"} {
		if !strings.Contains(usage, param) {
			t.Errorf("the usage does not document %s", param)
		}
	}
	_, stderr, code := runPlugin(t, nil, "--frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown arguments ["--frobnicate"]`) {
		t.Errorf("--frobnicate: stderr %q, exit %d; want unknown arguments, exit 2", stderr, code)
	}
}

// --write-options writes the bundled retry/v1/retry.proto, byte for byte,
// where protoc can import it from.
func TestWriteOptions(t *testing.T) {
	want, err := os.ReadFile("../../options/retry/v1/retry.proto")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--write-options", "DIR"}, {"--write-options=DIR"}} {
		dir := t.TempDir()
		for i := range args {
			args[i] = strings.ReplaceAll(args[i], "DIR", dir)
		}
		if _, stderr, code := runPlugin(t, nil, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		got, err := os.ReadFile(filepath.Join(dir, "retry", "v1", "retry.proto"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%v wrote a retry.proto that differs from options/retry/v1/retry.proto", args)
		}
	}
	if _, stderr, code := runPlugin(t, nil, "--write-options", "/dev/null/x"); code != 1 || stderr == "" {
		t.Errorf("--write-options to an impossible directory: exit %d, stderr %q; want exit 1 and a message", code, stderr)
	}
}

// A request that is not one gets a one-line message and a non-zero exit,
// never a panic and never a response.
func TestNotARequest(t *testing.T) {
	valid, err := proto.Marshal(goldenRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, stdin := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("hello, plugin\n"),
		"truncated": valid[:len(valid)/2],
		"binary":    {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12},
	} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runPlugin(t, stdin)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if stdout != "" {
				t.Errorf("wrote %d bytes to stdout, want none", len(stdout))
			}
			if !strings.HasPrefix(stderr, "protoc-gen-go-retry: ") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line naming the plugin", stderr)
			}
		})
	}
}

// A request with fields this plugin does not know, as a newer protoc may
// send, is still a request.
func TestUnknownRequestFields(t *testing.T) {
	in, err := proto.Marshal(goldenRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	in = protowire.AppendVarint(protowire.AppendTag(in, 99, protowire.VarintType), 1)
	stdout, stderr, code := runPlugin(t, in)
	resp := new(pluginpb.CodeGeneratorResponse)
	if code != 0 || proto.Unmarshal([]byte(stdout), resp) != nil || resp.Error != nil || len(resp.File) == 0 {
		t.Errorf("exit %d, stderr %q, response error %q with %d files; want the files", code, stderr, resp.GetError(), len(resp.File))
	}
}

// The binary answers a request on stdin exactly as the in-process generator
// the golden tests use does.
func TestBinaryMatchesInProcess(t *testing.T) {
	req := goldenRequest(t)
	files, err := protoc.Run(req, protoc.Exec(pluginBinary(t)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(generate(req).File, files, protocmp.Transform()); diff != "" {
		t.Errorf("binary and in-process output differ (-in process +binary):\n%s", diff)
	}

	// Errors about the request's contents go in the response, for protoc to
	// print, with a zero exit.
	req.Parameter = proto.String("max_retries=lots")
	in, _ := proto.Marshal(req)
	stdout, _, code := runPlugin(t, in)
	resp := new(pluginpb.CodeGeneratorResponse)
	if err := proto.Unmarshal([]byte(stdout), resp); err != nil || code != 0 {
		t.Fatalf("exit %d, response %v; want exit 0 and a response", code, err)
	}
	if want := "parameter max_retries=lots: want a whole number from 0 to 2147483647"; resp.GetError() != want {
		t.Errorf("response error %q, want %q", resp.GetError(), want)
	}
}

// goldenRequest is the request of the "greet" golden case.
func goldenRequest(t *testing.T) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	return goldenCase{files: []string{"greet/greet.proto"}}.request(t)
}
