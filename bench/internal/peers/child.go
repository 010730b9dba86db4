package peers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// A process of the comparison is the running binary (the command, or the
// test binary) run again in a role: a provider, a client, or a client of
// the hedging measurement. The idea is example/internal/testbed's (child.go), copied:
// dubbo-go exports a service only once per process, so each Triple provider
// needs a process of its own; and a dubboretry budget is per service per
// process, so each Triple client does too, to start with a budget of its own.
const (
	roleEnv   = "BENCH_PEERS_ROLE"
	configEnv = "BENCH_PEERS_CONFIG"
	// prefix starts each line a child says to its parent, followed by a
	// message in JSON; dubbo-go logs on standard output too.
	prefix = "peers: "
)

// childEnv is added to every child's environment: dubbo-go registers
// nothing here (there is no registry), but were it to, it would give
// 127.0.0.1, the only address anything of the comparison binds.
var childEnv = []string{"DUBBO_IP_TO_REGISTRY=127.0.0.1"}

// Main turns this process into the role its environment names, runs it and
// exits; in the parent, it returns at once. The command's main and the
// tests' TestMain call it first.
func Main() {
	role := os.Getenv(roleEnv)
	if role == "" {
		return
	}
	config := os.Getenv(configEnv)
	var err error
	switch role {
	case "provider":
		err = runProvider(config)
	case "client":
		err = runClient(config)
	case "hedge-client":
		err = runHedgeClient(config)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// say prints v, in JSON, on a line for the parent.
func say(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append([]byte(prefix), append(b, '\n')...))
}

// waitEnd returns once the parent closes this child's standard input, or
// has died.
func waitEnd() {
	io.Copy(io.Discard, os.Stdin)
}

// A child is this binary run again in a role; M is what it says.
type child[M any] struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	msgs   chan M
	exited chan struct{}
	err    error
	stderr lockedBuffer
	once   sync.Once
}

// startChild runs this binary again in role with config. It is killed
// once timeout has passed, if it is still running; log, if not nil, gets
// the lines of its standard output that are not for the parent.
func startChild[M any](name, role string, config any, timeout time.Duration, log io.Writer) (*child[M], error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	c := &child[M]{name: name, msgs: make(chan M, 16), exited: make(chan struct{})}
	// No arguments: Main takes up the role before anything reads them
	// (the command's flags, or a test binary's).
	c.cmd = exec.Command(exe)
	c.cmd.Env = append(append(os.Environ(), childEnv...), roleEnv+"="+role, configEnv+"="+string(cfg))
	c.cmd.Stderr = &c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	timer := time.AfterFunc(timeout, func() { c.cmd.Process.Kill() })
	go func() {
		s := bufio.NewScanner(stdout)
		s.Buffer(nil, 16<<20)
		for s.Scan() {
			line, ok := strings.CutPrefix(s.Text(), prefix)
			if !ok {
				if log != nil {
					fmt.Fprintf(log, "%s: %s\n", name, s.Text())
				}
				continue
			}
			var m M
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				fmt.Fprintf(&c.stderr, "bad message %q: %v\n", line, err)
				continue
			}
			c.msgs <- m
		}
		io.Copy(io.Discard, stdout)
		c.err = c.cmd.Wait()
		timer.Stop()
		close(c.msgs)
		close(c.exited)
	}()
	return c, nil
}

// next returns the child's next message, or an error if it exits first or
// says nothing for d.
func (c *child[M]) next(d time.Duration) (M, error) {
	var none M
	select {
	case m, ok := <-c.msgs:
		if ok {
			return m, nil
		}
		<-c.exited
		return none, fmt.Errorf("%s exited (%v):\n%s", c.name, c.err, c.stderr.tail())
	case <-time.After(d):
		return none, fmt.Errorf("%s said nothing for %v:\n%s", c.name, d, c.stderr.tail())
	}
}

// stop closes the child's standard input, which ends it, and kills it if
// it has not exited 10 s later.
func (c *child[M]) stop() {
	c.once.Do(func() {
		c.stdin.Close()
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-c.exited
		}
	})
}

// lockedBuffer is a bytes.Buffer a process writes while another goroutine
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns the last 8 KiB written.
func (b *lockedBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > 8<<10 {
		s = "...\n" + s[len(s)-8<<10:]
	}
	return s
}
