package testbed

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	Main(nil)
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
