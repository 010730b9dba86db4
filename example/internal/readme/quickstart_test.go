package readme

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/proc"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// The quick start, as a newcomer runs it: copy its files into a fresh
// module, run its generate commands, build the server and the client, and
// run them. The client must see GetCart succeed through the retries
// cart.proto declares, and Checkout fail on its only attempt.
func TestQuickStart(t *testing.T) {
	dir := t.TempDir()
	module := copyQuickStart(t, dir)
	newModule(t, dir, module)

	script, err := os.ReadFile(filepath.Join(repoRoot, quickstart, "generate.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range commands(string(script)) {
		if err := runCommand(t, dir, cmd); err != nil {
			t.Fatalf("%s/generate.sh: %s: %v", quickstart, strings.Join(cmd, " "), err)
		}
	}

	bin := filepath.Join(dir, "bin")
	if err := buildAndVet(t, dir, bin); err != nil {
		t.Fatal(err)
	}

	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	serverOut := new(proc.Buffer)
	stop, err := start(filepath.Join(bin, "server"), serverOut, addr, "-port", strconv.Itoa(port))
	if err != nil {
		t.Fatalf("starting the server: %v\n%s", err, serverOut)
	}
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := exec.CommandContext(ctx, filepath.Join(bin, "client"), "-addr", addr)
	clientOut, err := client.CombinedOutput()
	if err != nil {
		t.Fatalf("the client: %v\n%s\nthe server:\n%s", err, clientOut, serverOut)
	}
	stop()

	outputs := map[string]string{
		quickstart + "/cmd/client": string(clientOut),
		quickstart + "/cmd/server": serverOut.String(),
	}
	// The retries happened, and only those cart.proto declares.
	for _, want := range []struct {
		pkg, line string
		present   bool
	}{
		{"cmd/client", "GetCart: cart c1 holds [tea biscuits]", true},
		{"cmd/server", "GetCart(c1): attempt 3", true},
		{"cmd/server", "GetCart(c1): attempt 4", false},
		{"cmd/client", "Checkout: unavailable: attempt 1: the inventory is unavailable", true},
		{"cmd/server", "Checkout(c1): attempt 1", true},
		{"cmd/server", "Checkout(c1): attempt 2", false},
	} {
		out := outputs[quickstart+"/"+want.pkg]
		if hasLine(out, want.line) != want.present {
			t.Errorf("%s printed %q: %v, want %v; it printed\n%s", want.pkg, want.line, !want.present, want.present, out)
		}
	}
	// What the README says they print, they print.
	shown := 0
	for _, b := range readmeBlocks(t) {
		if b.output == "" {
			continue
		}
		shown++
		out, ok := outputs[b.output]
		if !ok {
			t.Errorf("%v: the test runs no %s (it runs %s/cmd/server and %s/cmd/client)", b, b.output, quickstart, quickstart)
			continue
		}
		for _, line := range strings.Split(strings.TrimSuffix(b.text, "\n"), "\n") {
			if !hasLine(out, line) {
				t.Errorf("%v: %s did not print %q; it printed\n%s", b, b.output, line, out)
			}
		}
	}
	if shown == 0 {
		t.Errorf("the README shows no output of the quick start (a block after <!-- output: %s/cmd/client -->)", quickstart)
	}
}

// copyQuickStart copies the files of the quick start into dir, and returns
// the path of its module.
func copyQuickStart(t *testing.T, dir string) string {
	t.Helper()
	files, err := quickstartFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		rel := strings.TrimPrefix(f, quickstart+"/")
		b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := tempmod.Go(filepath.Join(repoRoot, quickstart), "mod", "edit", "-json")
	if err != nil {
		t.Fatal(err)
	}
	// The module line of go mod edit -json: "Module": {"Path": "..."}.
	_, after, _ := strings.Cut(out, `"Path": "`)
	path, _, _ := strings.Cut(after, `"`)
	if path == "" {
		t.Fatalf("no module path in %s/go.mod", quickstart)
	}
	return path
}

// commands returns the commands of a shell script: its lines, with lines
// that end in a backslash joined to the next, split into words, without
// blank lines and comments. The scripts it reads use no quotes.
func commands(script string) [][]string {
	var cmds [][]string
	joined := strings.ReplaceAll(script, "\\\n", " ")
	for _, line := range strings.Split(joined, "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			cmds = append(cmds, f)
		}
	}
	return cmds
}

// runCommand carries out a command of the quick start's generate.sh in the
// module in dir: protoc-gen-go-retry runs as built from source, and protoc
// in process, with protoc-gen-go in process and protoc-gen-go-retry built
// from source.
func runCommand(t *testing.T, dir string, cmd []string) error {
	switch cmd[0] {
	case "protoc-gen-go-retry":
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := exec.CommandContext(ctx, plugin(t), cmd[1:]...)
		c.Dir = dir
		out, err := c.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		if !bytes.HasPrefix(out, []byte("protoc-gen-go-retry: wrote ")) {
			return fmt.Errorf("it printed %q, want it to say what it wrote", out)
		}
		return nil
	case "protoc":
		return runProtoc(t, dir, cmd[1:])
	}
	return fmt.Errorf("the test does not know how to run %s: teach runCommand (example/internal/readme)", cmd[0])
}

// runProtoc does what protoc does with args in dir, for the flags the
// quick start uses.
func runProtoc(t *testing.T, dir string, args []string) error {
	var (
		importPaths, files []string
		out                = make(map[string]string) // by plugin: its output directory
		opts               = make(map[string]string) // by plugin: its parameter
	)
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch name, value, _ := strings.Cut(arg, "="); {
		case arg == "-I" || arg == "--proto_path":
			if i++; i == len(args) {
				return fmt.Errorf("%s needs a directory", arg)
			}
			importPaths = append(importPaths, args[i])
		case strings.HasPrefix(arg, "-I"):
			importPaths = append(importPaths, strings.TrimPrefix(arg, "-I"))
		case name == "--proto_path":
			importPaths = append(importPaths, value)
		case strings.HasPrefix(name, "--") && strings.HasSuffix(name, "_out"):
			out[strings.TrimSuffix(strings.TrimPrefix(name, "--"), "_out")] = value
		case strings.HasPrefix(name, "--") && strings.HasSuffix(name, "_opt"):
			p := strings.TrimSuffix(strings.TrimPrefix(name, "--"), "_opt")
			opts[p] = strings.Trim(opts[p]+","+value, ",")
		case strings.HasSuffix(arg, ".proto"):
			files = append(files, arg)
		default:
			return fmt.Errorf("the test does not know protoc's %s: teach runProtoc (example/internal/readme)", arg)
		}
	}
	if len(importPaths) == 0 {
		importPaths = []string{"."}
	}
	var abs []string
	for _, p := range importPaths {
		abs = append(abs, filepath.Join(dir, p))
	}
	// protoc names each file relative to the first import path that holds
	// it.
	var names []string
	for _, f := range files {
		name := ""
		for _, p := range importPaths {
			if rel, err := filepath.Rel(p, f); err == nil && filepath.IsLocal(rel) {
				name = filepath.ToSlash(rel)
				break
			}
		}
		if name == "" {
			return fmt.Errorf("%s is in no import path (-I)", f)
		}
		names = append(names, name)
	}

	plugins := map[string]protoc.Plugin{
		"go":       protoc.ProtocGenGo,
		"go-retry": protoc.Exec(plugin(t)),
	}
	for _, p := range slices.Sorted(maps.Keys(out)) {
		run, ok := plugins[p]
		if !ok {
			return fmt.Errorf("the test does not know the plugin protoc-gen-%s", p)
		}
		req, err := protoc.Request(abs, names, opts[p])
		if err != nil {
			return err
		}
		// protoc.Request always finds retry/v1/retry.proto; protoc finds
		// only what is in an import path.
		for _, f := range req.ProtoFile {
			if !strings.HasPrefix(f.GetName(), "google/protobuf/") && !inImportPath(abs, f.GetName()) {
				return fmt.Errorf("%s: File not found (it is in no import path: %s)", f.GetName(), strings.Join(importPaths, ", "))
			}
		}
		generated, err := protoc.Run(req, run)
		if err != nil {
			return fmt.Errorf("--%s_out: %v", p, err)
		}
		if err := protoc.Write(filepath.Join(dir, out[p]), generated); err != nil {
			return err
		}
	}
	return nil
}

func inImportPath(importPaths []string, name string) bool {
	for _, p := range importPaths {
		if _, err := os.Stat(filepath.Join(p, filepath.FromSlash(name))); err == nil {
			return true
		}
	}
	return false
}

// hasLine reports whether out has a line that ends with line (dubbo-go's
// logger and package log put a time before what a program says).
func hasLine(out, line string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasSuffix(strings.TrimRight(l, " \r"), line) {
			return true
		}
	}
	return false
}

// start starts the command at path with args, its output in out, and waits
// until something listens on addr. stop kills it and waits for it to end; it
// may be called more than once.
func start(path string, out *proc.Buffer, addr string, args ...string) (stop func(), err error) {
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			// dubbo-go's graceful shutdown, on an interrupt, waits
			// several seconds for nothing the test needs.
			cmd.Process.Kill()
			<-exited
		})
	}
	if err := proc.Await(time.Minute, 20*time.Millisecond, func() error {
		select {
		case <-exited:
			return proc.Gone(fmt.Errorf("it exited: %v", waitErr))
		default:
			return proc.Accepting(addr)
		}
	}); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}
