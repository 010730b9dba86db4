package walkthrough

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"dubbo.apache.org/dubbo-go/v3/server"
	"github.com/dubbogo/gost/log/logger"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/loopback"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

// The hedging row needs a second provider of GreetService, and dubbo-go
// exports a service only once per process: the walkthrough runs its own
// binary again as that provider, a fast one, beside the slow one it serves
// itself.

// fastEnv, set in a process's environment, makes ServeFastIfAsked serve.
const fastEnv = "GREET_WALKTHROUGH_FAST_PROVIDER"

// ServeFastIfAsked serves GreetService on a free loopback port, prints its
// address, and exits when its standard input closes, if this process was
// started as the fast provider by StartFast. Otherwise it returns at once.
// Call it first in main (or TestMain).
func ServeFastIfAsked() {
	if os.Getenv(fastEnv) == "" {
		return
	}
	logger.SetLoggerLevel("fatal")
	addr, stop, err := loopback.Serve(func(srv *server.Server) error {
		return greet.RegisterGreetServiceHandler(srv, &greetserver.GreetTripleServer{})
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fast provider:", err)
		os.Exit(1)
	}
	fmt.Println(addrPrefix + addr)
	io.Copy(io.Discard, os.Stdin)
	stop()
	os.Exit(0)
}

// StartFast starts the fast provider: this process's binary, again, whose
// main calls ServeFastIfAsked. It returns the provider's address, and
// stop, which ends the provider.
func StartFast() (addr string, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), fastEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		stdin.Close()
		cmd.Wait()
	}
	// dubbo-go may print before the address: skip to it.
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), addrPrefix); ok {
			go io.Copy(io.Discard, stdout)
			return addr, stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("the fast provider said no address: %v", lines.Err())
}

// addrPrefix starts the line on which the fast provider says its address.
const addrPrefix = "fast provider at "
