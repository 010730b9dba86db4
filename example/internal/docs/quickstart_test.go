package docs

import (
	"context"
	"fmt"
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

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

// The quick start, as a newcomer runs it with protoc: its files in a fresh
// module, its generate commands (generate.sh) carried out with protoc
// compiled in process, then the server and the client built, vetted and
// run. The client must see GetCart succeed through the retries cart.proto
// declares, and Checkout fail on its only attempt; and they print what the
// docs show after <!-- output: PATH -->.
func TestQuickStart(t *testing.T) {
	dir := protocRoute(t).dir
	bin := filepath.Join(dir, "bin")
	if err := buildAndVet(dir, bin); err != nil {
		t.Fatal(err)
	}

	port, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	serverOut := new(childproc.Buffer)
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
	// What the docs say they print, they print.
	shown := 0
	for _, b := range allBlocks(t) {
		if b.marker.kind != "output" {
			continue
		}
		shown++
		out, ok := outputs[b.marker.arg]
		if !ok {
			t.Errorf("%v: the test runs no %s (it runs %s/cmd/server and %s/cmd/client)", b, b.marker.arg, quickstart, quickstart)
			continue
		}
		for i, line := range b.lines() {
			if !hasLine(out, line) {
				t.Errorf("%s: %s did not print %q; it printed\n%s", b.at(i+1), b.marker.arg, line, out)
			}
		}
	}
	if shown == 0 {
		t.Errorf("no doc shows output of the quick start (a block after <!-- output: %s/cmd/client -->)", quickstart)
	}
}

// A generated quick start: a module with the quick start's files, and what
// its generate commands wrote.
type generated struct {
	dir   string
	files []string // relative to dir, slash-separated
}

var protocRouteResult once[generated]

// protocRoute generates the quick start once, in a module of its own (with
// this checkout for protoc-gen-go-retry, tempmod.New), with its generate
// commands, protoc compiled in process and the plugins built from source.
// The other routes compare what they generate with it.
func protocRoute(t *testing.T) generated {
	t.Helper()
	bin := plugins(t)
	return protocRouteResult.get(t, func() (generated, error) {
		dir, err := sharedDir("docs-quickstart")
		if err != nil {
			return generated{}, err
		}
		module, err := copyQuickStart(dir)
		if err != nil {
			return generated{}, err
		}
		if err := tempmod.New(dir, module, repoRoot); err != nil {
			return generated{}, err
		}
		before, err := listFiles(dir)
		if err != nil {
			return generated{}, err
		}
		script, err := generateScript()
		if err != nil {
			return generated{}, err
		}
		cmds, err := script.commands()
		if err != nil {
			return generated{}, err
		}
		for _, c := range cmds {
			if err := generate(dir, c, bin, false); err != nil {
				return generated{}, fmt.Errorf("%v: %v", c, err)
			}
		}
		after, err := listFiles(dir)
		if err != nil {
			return generated{}, err
		}
		return generated{dir: dir, files: slices.DeleteFunc(after, func(f string) bool { return slices.Contains(before, f) })}, nil
	})
}

// generateScript returns the quick start's generate.sh, as a block.
func generateScript() (block, error) {
	name := quickstart + "/generate.sh"
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(name)))
	return block{doc: name, lang: "sh", text: string(b), line: 1}, err
}

// copyQuickStart copies the files of the quick start but its go.mod into
// dir, and returns the path of its module.
func copyQuickStart(dir string) (string, error) {
	files, err := quickstartFiles()
	if err != nil {
		return "", err
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(f)))
		if err != nil {
			return "", err
		}
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(f, quickstart+"/")))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return "", err
		}
	}
	return modulePath(filepath.Join(repoRoot, quickstart, "go.mod"))
}

// quickstartFiles returns the files of the quick start that a newcomer
// copies, relative to the repository root: all but its go.mod, which stands
// for the newcomer's own.
func quickstartFiles() ([]string, error) {
	var files []string
	err := filepath.WalkDir(filepath.Join(repoRoot, quickstart), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "go.mod" {
			return err
		}
		rel, err := filepath.Rel(repoRoot, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	return files, err
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
func start(path string, out *childproc.Buffer, addr string, args ...string) (stop func(), err error) {
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
	if err := testbed.Await(time.Minute, 20*time.Millisecond, func() error {
		select {
		case <-exited:
			return testbed.Gone(fmt.Errorf("it exited: %v", waitErr))
		default:
			return testbed.Accepting(addr)
		}
	}); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}
