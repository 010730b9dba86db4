package proc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// The environment of a child: RoleEnv names the role TestMain turns it
// into (Main), ConfigEnv holds the configuration of the role.
const (
	RoleEnv   = "EXAMPLE_TEST_ROLE"
	ConfigEnv = "EXAMPLE_TEST_CONFIG"
)

// prefix starts every line a child says to the test (Say), followed by a
// message in JSON. Anything else on its standard output (dubbo-go logs
// there) is not for the test.
const prefix = "proctest: "

// Role returns the role this process runs as: "" in the test process.
func Role() string { return os.Getenv(RoleEnv) }

// Main runs this process as the role its environment names, roles[role]
// given the configuration, and exits: with 1, saying why on standard
// error, if the role fails. Where no role is named, it returns at once, and
// TestMain goes on to run the tests.
func Main(roles map[string]func(config string) error) {
	role := Role()
	if role == "" {
		return
	}
	err := fmt.Errorf("unknown %s %q", RoleEnv, role)
	if run, ok := roles[role]; ok {
		err = run(os.Getenv(ConfigEnv))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Say prints v, in JSON, on a line for the test (Child.Next).
func Say(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append([]byte(prefix), append(b, '\n')...))
}

// WaitEnd returns once the test ends this child, by closing its standard
// input (Child.Stop), or once the test process has died.
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
	// that are not for the test.
	Output io.Writer
}

// A Child is the test binary run again as a role; M is what it says (Say).
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

// Start runs the test binary again, running no test, as role with config,
// and returns at once. The child's standard input stays open until Stop or
// Kill: a child that serves takes its end as the end (WaitEnd), which also
// comes if the test process dies. The caller stops the child, when the test
// ends at the latest.
func Start[M any](name, role, config string, opts Options) (*Child[M], error) {
	c := &Child[M]{Name: name, msgs: make(chan M, 1024), exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(append(os.Environ(), RoleEnv+"="+role, ConfigEnv+"="+config), opts.Env...)
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
					fmt.Fprintln(opts.Output, s.Text())
				}
				continue
			}
			var m M
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				fmt.Fprintf(&c.stderr, "test: bad message %q: %v\n", line, err)
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
		return none, fmt.Errorf("%s exited (%v) before it said what the test waits for:\n%s", c.Name, c.err, c.stderrTail())
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
