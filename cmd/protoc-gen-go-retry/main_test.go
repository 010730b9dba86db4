package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
	bundled "github.com/dubbo-retry/protoc-gen-go-retry/options"
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
// where protoc can import it from, and says so.
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
		stdout, stderr, code := runPlugin(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		path := filepath.Join(dir, "retry", "v1", "retry.proto")
		if wantOut := "protoc-gen-go-retry: wrote " + path; !strings.HasPrefix(stdout, wantOut) || !strings.Contains(stdout, "-I "+dir) {
			t.Errorf("%v: stdout %q; want it to start %q and to tell how to import it", args, stdout, wantOut)
		}
		got, err := os.ReadFile(path)
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

// A copy already there is left alone when it is current, replaced when a
// release wrote it, and kept when edited by hand, unless --force is given.
func TestWriteOptionsOverCopy(t *testing.T) {
	current, err := bundled.FS.ReadFile(bundled.RetryProto)
	if err != nil {
		t.Fatal(err)
	}
	// A past release, as the tests of a release that changed retry.proto
	// would have it.
	past := append([]byte("// the retry.proto of an older release\n"), current...)
	defer func(r []bundled.Release) { bundled.Releases = r }(bundled.Releases)
	bundled.Releases = append([]bundled.Release{{Version: "v0.0.1", SHA256: bundled.Hash(past)}}, bundled.Releases...)
	edited := append(slices.Clip(current), "// my own option\n"...)
	ours := optionsVersion(current)

	for _, tc := range []struct {
		name   string
		old    []byte // the copy there; nil for none
		args   []string
		code   int
		want   []byte // the copy afterwards
		stdout string // what the output must say
		stderr string
	}{
		{name: "none", args: []string{"--write-options", "DIR"}, want: current, stdout: "wrote DIR/retry/v1/retry.proto (" + ours + ")"},
		{name: "current", old: current, args: []string{"--write-options", "DIR"}, want: current, stdout: "DIR/retry/v1/retry.proto is already current (" + ours + "); left it as it is"},
		{name: "current with CRLF", old: bytes.ReplaceAll(current, []byte("\n"), []byte("\r\n")), args: []string{"--write-options", "DIR"}, want: bytes.ReplaceAll(current, []byte("\n"), []byte("\r\n")), stdout: "is already current"},
		{name: "past release", old: past, args: []string{"--write-options", "DIR"}, want: current, stdout: "replaced DIR/retry/v1/retry.proto of v0.0.1 with that of " + ours},
		{name: "edited", old: edited, args: []string{"--write-options", "DIR"}, code: 1, want: edited, stderr: "DIR/retry/v1/retry.proto was edited by hand, or written by a newer protoc-gen-go-retry"},
		{name: "edited, forced", old: edited, args: []string{"--write-options", "DIR", "--force"}, want: current, stdout: "replaced DIR/retry/v1/retry.proto, which no release wrote (--force), with that of " + ours},
		{name: "edited, forced first", old: edited, args: []string{"--force", "--write-options=DIR"}, want: current, stdout: "(--force)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "retry", "v1", "retry.proto")
			if tc.old != nil {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tc.old, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var args []string
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "DIR", dir))
			}
			var stdout, stderr bytes.Buffer
			code := command(args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, tc.code, stderr.String())
			}
			for _, c := range []struct{ name, got, want string }{{"stdout", stdout.String(), tc.stdout}, {"stderr", stderr.String(), tc.stderr}} {
				want := strings.ReplaceAll(c.want, "DIR", dir)
				if want == "" && c.got != "" || !strings.Contains(c.got, want) {
					t.Errorf("%v: %s %q; want it to say %q", args, c.name, c.got, want)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("%v: the copy afterwards is not the one it should be:\n%s", args, got)
			}
			if tc.code != 0 && !strings.Contains(stderr.String(), "--write-options "+dir+" --force") {
				t.Errorf("%v: stderr %q does not say how to replace the copy", args, stderr.String())
			}
		})
	}
}

// --write-options without a directory, or with arguments it does not take,
// gets a usage message that names what is missing or wrong.
func TestWriteOptionsUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--write-options"}, "--write-options needs the directory DIR"},
		{[]string{"--write-options="}, "--write-options needs the directory DIR"},
		{[]string{"--write-options", "--force"}, "--write-options needs the directory DIR"},
		{[]string{"--force"}, "--force goes with --write-options DIR"},
		{[]string{"--write-options", "a", "b"}, `unknown argument "b" to --write-options`},
		{[]string{"--write-options", "a", "--write-options", "b"}, "--write-options is given twice"},
	} {
		stdout, stderr, code := runPlugin(t, nil, tc.args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "protoc-gen-go-retry: "+tc.want) ||
			!strings.Contains(stderr, "usage: protoc-gen-go-retry --write-options DIR [--force]") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and a usage message that says %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// The embedded retry.proto is the last of options.Releases, so that the
// copies users vendored from each release keep being replaced, and the
// list is kept in order.
func TestOptionsReleases(t *testing.T) {
	src, err := bundled.FS.ReadFile(bundled.RetryProto)
	if err != nil {
		t.Fatal(err)
	}
	releases := bundled.Releases
	if n := len(releases); n == 0 || releases[n-1].SHA256 != bundled.Hash(src) {
		t.Errorf("options/retry/v1/retry.proto has changed: its hash %s is not the last of options.Releases.\n"+
			"If this is the retry.proto the next release ships, append\n"+
			"\t{Version: \"vX.Y.Z\", SHA256: %q},\n"+
			"to Releases in options/options.go, with the version that will ship it, and keep the entries\n"+
			"before it: --write-options replaces only the copies it knows a release wrote.",
			bundled.Hash(src), bundled.Hash(src))
	}
	versions := make(map[string]bool)
	hashes := make(map[string]bool)
	for _, r := range releases {
		if versions[r.Version] || hashes[r.SHA256] {
			t.Errorf("options.Releases lists %s or %s twice", r.Version, r.SHA256)
		}
		versions[r.Version], hashes[r.SHA256] = true, true
		if len(r.SHA256) != 64 || strings.Trim(r.SHA256, "0123456789abcdef") != "" {
			t.Errorf("options.Releases: %s: %q is not a SHA-256 in lower-case hex", r.Version, r.SHA256)
		}
	}
	if releases[0] != (bundled.Release{Version: "v0.1.0", SHA256: "ad0cccc3669d1b9334251fbd0977d30440aea129f35a75ea1925aafcc88c02b0"}) {
		t.Errorf("options.Releases starts with %v, want v0.1.0's retry.proto: never change or remove an entry", releases[0])
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
