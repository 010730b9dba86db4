package peers

import (
	"context"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dubbogo/gost/log/logger"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

// A client process runs one job, of the comparison (job, runClient) or of
// the hedging measurement (hedgeJob, runHedgeClient): clientRole is how it
// starts and ends, in the child; runClientProcess how its parent runs it;
// callConcurrently and tally how either job makes its calls and counts
// their failures.

// jobTimeout bounds a client process's job; the parent kills the process
// a little later.
const jobTimeout = 5 * time.Minute

// A jobReport is what a client process says when its job is done: the
// job's result, and the sockets the process listens on (Linux only).
type jobReport[R any] struct {
	Result    R
	Listeners []childproc.Socket
}

// clientRole returns the role of a client process whose job, of type J, is
// its configuration, and which does it with do: do's context ends after
// jobTimeout, whatever its calls do. The process says do's result and the
// sockets it listens on, and exits once the parent closes its standard
// input.
func clientRole[J, R any](do func(ctx context.Context, j J) (R, error)) func(config string) error {
	return childproc.JSON(func(j J) error {
		// dubbo-go logs each failed attempt; the jobs fail thousands.
		logger.SetLoggerLevel("fatal")
		// The parent closes standard input once it has the result, or when
		// it dies: either way, this process is done.
		go func() {
			childproc.WaitEnd()
			os.Exit(0)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
		defer cancel()
		res, err := do(ctx, j)
		if err != nil {
			return err
		}
		ls, err := childproc.Listening()
		if err != nil {
			return err
		}
		childproc.Say(jobReport[R]{Result: res, Listeners: ls})
		<-make(chan struct{}) // until the parent closes standard input
		return nil
	})
}

// runClientProcess runs a client process called name in role with job, and
// returns the result it says; it records the sockets the process
// listened on in listeners, and fails if one is not on 127.0.0.1. log, if
// not nil, gets the process's other output.
func runClientProcess[R any](log io.Writer, listeners map[string][]childproc.Socket, name, role string, job any) (R, error) {
	var none R
	ch, err := startChild[jobReport[R]](name, role, job, jobTimeout+time.Minute, log)
	if err != nil {
		return none, err
	}
	defer ch.Stop()
	rep, err := ch.Next(jobTimeout + time.Minute)
	if err != nil {
		return none, err
	}
	if err := checkListeners(listeners, name, rep.Listeners); err != nil {
		return none, err
	}
	return rep.Result, nil
}

// callConcurrently calls call with every number from 0 to n-1, from
// goroutines goroutines, each taking the next number as it is free, and
// returns once every call has returned.
func callConcurrently(n, goroutines int, call func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				call(int(i))
			}
		})
	}
	wg.Wait()
}

// tally counts calls by the codes of their failures (codes[i], "" for
// none), and keeps the error (errs[i]) of the first failed call of each
// code.
func tally(codes []string, errs []error) (succeeded int, failures map[string]int, codeErrors map[string]string) {
	failures, codeErrors = map[string]int{}, map[string]string{}
	for i, c := range codes {
		if c == "" {
			succeeded++
			continue
		}
		failures[c]++
		if _, ok := codeErrors[c]; !ok {
			codeErrors[c] = errs[i].Error()
		}
	}
	return succeeded, failures, codeErrors
}
