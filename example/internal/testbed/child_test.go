package testbed

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	Main(map[string]func(string) error{
		// echo says its configuration, and serves until the test ends it.
		"echo": JSON(func(config string) error {
			fmt.Println("not for the test")
			Say(config)
			return WaitEnd()
		}),
		"fail": JSON(func(config string) error { return errors.New(config) }),
	})
	os.Exit(m.Run())
}

func TestAwait(t *testing.T) {
	n := 0
	if err := Await(time.Minute, time.Millisecond, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	}); err != nil || n != 3 {
		t.Errorf("ready at the third call: %v after %d calls, want nil after 3", err, n)
	}

	exited := errors.New("exited")
	n = 0
	err := Await(time.Minute, time.Millisecond, func() error {
		n++
		return Gone(exited)
	})
	if err != exited || n != 1 {
		t.Errorf("Gone: %v after %d calls, want %v after 1", err, n, exited)
	}

	refused := errors.New("refused")
	if err := Await(10*time.Millisecond, time.Millisecond, func() error { return refused }); !errors.Is(err, refused) {
		t.Errorf("never ready: %v, want an error that wraps %v", err, refused)
	}
}

func TestAccepting(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if err := Accepting(fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		t.Errorf("a free port accepts connections")
	}
}

func TestChild(t *testing.T) {
	out := new(Buffer)
	c, err := Start[string]("echo", "echo", "hello", Options{Output: out})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	if m, err := c.Next(time.Minute); m != "hello" || err != nil {
		t.Fatalf("the child said %q (%v), want %q", m, err, "hello")
	}
	c.Stop()
	if err := c.Wait(); err != nil {
		t.Errorf("stopped: %v", err)
	}
	if _, ok := <-c.Messages(); ok {
		t.Errorf("Messages is open after the child exited")
	}
	if got := out.String(); got != "not for the test\n" {
		t.Errorf("the child's other output: %q", got)
	}

	c, err = Start[string]("fail", "fail", "it fails", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	if _, err := c.Next(time.Minute); err == nil || !strings.Contains(err.Error(), "fail: it fails") {
		t.Errorf("Next: %v, want an error with the child's standard error", err)
	}
	if err := c.Wait(); err == nil {
		t.Errorf("Wait: nil for a child that failed")
	}
}
