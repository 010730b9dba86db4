package peers

import (
	"io"
	"time"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

// A process of the comparison is the running binary (the command, or the
// test binary) run again in a role (childproc, shared with the example's
// tests): a provider, a client, or a client of the hedging measurement.
// dubbo-go exports a service only once per process, so each Triple provider
// needs a process of its own; and a dubboretry budget is per service per
// process, so each Triple client does too, to start with a budget of its
// own.

// childEnv is added to every child's environment: dubbo-go registers
// nothing here (there is no registry), but were it to, it would give
// 127.0.0.1, the only address anything of the comparison binds.
var childEnv = []string{"DUBBO_IP_TO_REGISTRY=127.0.0.1"}

// Main turns this process into the role its environment names, runs it and
// exits; in the parent, it returns at once. The command's main and the
// tests' TestMain call it first.
func Main() {
	childproc.Main(map[string]func(config string) error{
		"provider":     runProvider,
		"client":       clientRole(runClient),
		"hedge-client": clientRole(runHedgeClient),
	})
}

// startChild runs this binary again in role with config. It is killed
// once timeout has passed, if it is still running; log, if not nil, gets
// the lines of its standard output that are not for the parent, after its
// name.
func startChild[M any](name, role string, config any, timeout time.Duration, log io.Writer) (*childproc.Child[M], error) {
	return childproc.Start[M](name, role, config, childproc.Options{
		Env: childEnv, Timeout: timeout, Output: log, OutputPrefix: name + ": ",
	})
}
