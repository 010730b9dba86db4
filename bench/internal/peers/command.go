package peers

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// RunCommand is the rest of the main of cmd/name (cmd/peers, cmd/hedge)
// once its flags are read: it says on standard error that it starts
// (starting: the processes it starts), runs the measurement (run), prints
// its report on standard output, under a Header with the date and the
// command line, and says how long it took. It exits with 1 if run fails.
func RunCommand[R interface{ Write(io.Writer, Header) }](name, starting string, run func() (R, error)) {
	os.Setenv("DUBBO_IP_TO_REGISTRY", loopback)

	start := time.Now()
	fmt.Fprintf(os.Stderr, "%s: %s\n", name, starting)
	rep, err := run()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
	command := "go -C bench run ./cmd/" + name
	if len(os.Args) > 1 {
		command += " " + strings.Join(os.Args[1:], " ")
	}
	rep.Write(os.Stdout, Header{Date: start, Command: command})
	fmt.Fprintf(os.Stderr, "%s: done in %.0f s\n", name, time.Since(start).Seconds())
}
