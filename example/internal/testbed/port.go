package testbed

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// FreePort returns a port of 127.0.0.1 that nothing listens on.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Accepting returns nil if something accepts connections on addr.
func Accepting(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	return conn.Close()
}

// Await calls ready every interval until it returns nil, and returns nil;
// once d has passed, it returns ready's last error, which it wraps. An
// error of ready's that Gone wraps ends the wait at once: what it waits for
// will never come (the process that was to serve has exited).
func Await(d, interval time.Duration, ready func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		var g gone
		if errors.As(err, &g) {
			return g.err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", d, err)
		}
		time.Sleep(interval)
	}
}

// Gone wraps err, for Await, as an error that waiting longer cannot mend.
func Gone(err error) error { return gone{err} }

type gone struct{ err error }

func (g gone) Error() string { return g.err.Error() }
func (g gone) Unwrap() error { return g.err }
