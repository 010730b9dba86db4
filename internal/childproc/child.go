// Package childproc runs the running binary (a command, or a test binary)
// again as a child process in a role, and lets parent and child talk: the
// child says messages to its parent in JSON lines on its standard output,
// and ends when its standard input closes. It is what the example's tests
// (example/internal/testbed) and the bench's measurements
// (bench/internal/peers) run their provider and client processes with:
// dubbo-go exports a service only once per process, and keeps a retry
// budget per service per process, so each provider, and each client that
// must start with a budget of its own, needs a process of its own.
//
// It also tells what sockets a process listens on (Listening), for the
// check that every process binds 127.0.0.1 only, and has a buffer that a
// process writes while another goroutine reads it (Buffer).
//
// It imports the standard library only.
package childproc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The environment of a child: RoleEnv names the role Main turns it into,
// ConfigEnv holds the configuration of the role, in JSON.
const (
	RoleEnv   = "CHILDPROC_ROLE"
	ConfigEnv = "CHILDPROC_CONFIG"
)

// prefix starts every line a child says to its parent (Say), followed by a
// message in JSON. Anything else on its standard output (dubbo-go logs
// there) is not for the parent.
const prefix = "childproc: "

// Role returns the role this process runs as: "" in the parent.
func Role() string { return os.Getenv(RoleEnv) }

// Main, called first in main or TestMain, runs this process as the role
// its environment names, one of roles, given the role's configuration, and
// exits: with 1, saying why on standard error, if the role fails. In the
// parent, which no role names, it returns at once.
func Main(roles map[string]func(config string) error) {
	role := Role()
	if role == "" {
		return
	}
	run, ok := roles[role]
	err := fmt.Errorf("unknown %s %q", RoleEnv, role)
	if ok {
		err = run(os.Getenv(ConfigEnv))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// JSON returns role, given its configuration in JSON.
func JSON[T any](role func(T) error) func(string) error {
	return func(js string) error {
		var cfg T
		if err := json.Unmarshal([]byte(js), &cfg); err != nil {
			return fmt.Errorf("configuration %q: %v", js, err)
		}
		return role(cfg)
	}
}

// Say prints v, in JSON, on a line for the parent (Child.Next).
func Say(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append([]byte(prefix), append(b, '\n')...))
}

// WaitEnd returns once the parent ends this child, by closing its standard
// input (Child.Stop), or once the parent has died.
func WaitEnd() error {
	_, err := io.Copy(io.Discard, os.Stdin)
	return err
}

// Options are what a child takes besides its role and configuration.
type Options struct {
	// Env is added to the child's environment.
	Env []string
	// Timeout, if not 0, is how long the child may run before it is
	// killed.
	Timeout time.Duration
	// Output, if not nil, gets the lines of the child's standard output
	// that are not for the parent, each after OutputPrefix.
	Output       io.Writer
	OutputPrefix string
}

// A Child is the running binary run again as a role; M is what it says
// (Say).
type Child[M any] struct {
	Name string

	cmd      *exec.Cmd
	stdin    io.WriteCloser
	msgs     chan M        // what it says; closed when it exits
	exited   chan struct{} // closed when it has exited
	err      error         // how it exited, once exited is closed
	stderr   Buffer
	stopOnce sync.Once
}

// Start runs the running binary again (running no test, in a test binary)
// as role with config, in JSON, and returns at once. The child's standard
// input stays open until Stop or Kill: a child that serves takes its end as
// the end (WaitEnd), which also comes if the parent dies. The caller stops
// the child.
func Start[M any](name, role string, config any, opts Options) (*Child[M], error) {
	js, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := &Child[M]{Name: name, msgs: make(chan M, 1024), exited: make(chan struct{})}
	var args []string
	if testing.Testing() {
		args = []string{"-test.run=^$"}
	}
	c.cmd = exec.Command(exe, args...)
	c.cmd.Env = append(append(os.Environ(), RoleEnv+"="+role, ConfigEnv+"="+string(js)), opts.Env...)
	c.cmd.Stderr = &c.stderr
	stdin, err := c.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	c.stdin = stdin
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var timer *time.Timer
	if opts.Timeout > 0 {
		timer = time.AfterFunc(opts.Timeout, func() { c.cmd.Process.Kill() })
	}
	go func() {
		s := bufio.NewScanner(stdout)
		s.Buffer(nil, 64<<20)
		for s.Scan() {
			line, ok := strings.CutPrefix(s.Text(), prefix)
			if !ok {
				if opts.Output != nil {
					fmt.Fprintf(opts.Output, "%s%s\n", opts.OutputPrefix, s.Text())
				}
				continue
			}
			var m M
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				fmt.Fprintf(&c.stderr, "childproc: bad message %q: %v\n", line, err)
				continue
			}
			c.msgs <- m
		}
		io.Copy(io.Discard, stdout) // so that Wait can return
		c.err = c.cmd.Wait()
		if timer != nil {
			timer.Stop()
		}
		close(c.msgs)
		close(c.exited)
	}()
	return c, nil
}

// Pid is the child's process id.
func (c *Child[M]) Pid() int { return c.cmd.Process.Pid }

// Messages returns what the child says, in order; it is closed once the
// child has exited.
func (c *Child[M]) Messages() <-chan M { return c.msgs }

// Next returns the child's next message, or an error if the child exits
// first or says nothing for d.
func (c *Child[M]) Next(d time.Duration) (M, error) {
	var none M
	select {
	case m, ok := <-c.msgs:
		if ok {
			return m, nil
		}
		<-c.exited
		return none, fmt.Errorf("%s exited (%v) before it said what its parent waits for:\n%s", c.Name, c.err, c.stderrTail())
	case <-time.After(d):
		return none, fmt.Errorf("%s said nothing for %v:\n%s", c.Name, d, c.stderrTail())
	}
}

// Send writes line to the child's standard input.
func (c *Child[M]) Send(line string) error {
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		return fmt.Errorf("%s: %v", c.Name, err)
	}
	return nil
}

// Stop ends the child: its standard input closes, and it is killed if it
// has not exited 10 s later. Only the first Stop or Kill acts.
func (c *Child[M]) Stop() {
	c.stopOnce.Do(func() {
		c.stdin.Close()
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-c.exited
		}
	})
}

// Kill ends the child with SIGKILL, as a crash would, and waits for it.
func (c *Child[M]) Kill() {
	c.stopOnce.Do(func() {
		c.cmd.Process.Kill()
		<-c.exited
	})
}

// Wait waits for the child to exit, and returns an error, with the end of
// the child's standard error, if it failed.
func (c *Child[M]) Wait() error {
	<-c.exited
	if c.err != nil {
		return fmt.Errorf("%s: %v\n%s", c.Name, c.err, c.stderrTail())
	}
	return nil
}

// Stderr returns what the child has written on its standard error.
func (c *Child[M]) Stderr() string { return c.stderr.String() }

// stderrTail returns the last 8 KiB of the child's standard error.
func (c *Child[M]) stderrTail() string {
	const max = 8 << 10
	s := c.stderr.String()
	if len(s) > max {
		s = "...\n" + s[len(s)-max:]
	}
	return s
}
