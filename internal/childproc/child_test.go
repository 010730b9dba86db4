package childproc

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

func TestChild(t *testing.T) {
	out := new(Buffer)
	c, err := Start[string]("echo", "echo", "hello", Options{Output: out, OutputPrefix: "echo: "})
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
	if got := out.String(); got != "echo: not for the test\n" {
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

	c, err = Start[string]("unknown", "no such role", nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	if err := c.Wait(); err == nil || !strings.Contains(err.Error(), `unknown CHILDPROC_ROLE "no such role"`) {
		t.Errorf("Wait: %v, want the error of an unknown role", err)
	}
}
