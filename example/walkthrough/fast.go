package walkthrough

import (
	"time"

	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

// The hedging row needs a second provider of GreetService, and dubbo-go
// exports a service only once per process: the walkthrough runs its own
// binary again (childproc.Start) as that provider, a fast one, beside the
// slow one it serves itself.

// fastRole is the role of the fast provider's process.
const fastRole = "greet-fast-provider"

// ServeFastIfAsked, called first in main (or TestMain), serves GreetService
// on a free loopback port, says its address, and exits when its standard
// input closes, if this process was started as the fast provider by
// StartFast. Otherwise it returns at once. It makes dubbo-go log fatal
// errors only (testbed.Main).
func ServeFastIfAsked() {
	testbed.Main(map[string]func(string) error{fastRole: func(string) error {
		addr, stop, err := testbed.Serve(func(srv *server.Server) error {
			return greet.RegisterGreetServiceHandler(srv, &greetserver.GreetTripleServer{})
		})
		if err != nil {
			return err
		}
		defer stop()
		childproc.Say(addr)
		return childproc.WaitEnd()
	}})
}

// StartFast starts the fast provider: this process's binary, again, whose
// main calls ServeFastIfAsked. It returns the provider's address, and
// stop, which ends the provider.
func StartFast() (addr string, stop func(), err error) {
	c, err := childproc.Start[string]("the fast provider", fastRole, nil, childproc.Options{})
	if err != nil {
		return "", nil, err
	}
	if addr, err = c.Next(time.Minute); err != nil {
		c.Kill()
		return "", nil, err
	}
	return addr, c.Stop, nil
}
