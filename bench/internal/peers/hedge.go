package peers

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"

	hedgev1 "github.com/dubbo-retry/protoc-gen-go-retry/bench/proto/hedge/v1"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

// The hedging measurement (cmd/hedge): the same three provider processes
// serve hedge.v1.HedgeService (hedge.proto), where any attempt takes
// SlowDelay with probability SlowProbability and otherwise answers at once
// (hedgeTail); a client process per row calls one of its methods, Calls
// times from Goroutines goroutines, and records each call's latency.

// HedgeConfig sizes the hedging measurement.
type HedgeConfig struct {
	// Calls is the number of calls of each row.
	Calls int
	// Goroutines is the number of goroutines of each client.
	Goroutines int
	// Seed seeds the providers' slow tails, with each provider's index.
	Seed uint64
	// SlowProbability is the probability that an attempt is slow, and
	// SlowDelay how long a slow one takes.
	SlowProbability float64
	SlowDelay       time.Duration
	// Log, if not nil, gets the output of the processes that is not for
	// the measurement (dubbo-go's logs).
	Log io.Writer
}

// HedgeDefault is the measurement of the issue, which cmd/hedge runs
// unless told otherwise: 200 ms with probability 3%, 2,000 calls from 4
// goroutines.
var HedgeDefault = HedgeConfig{Calls: 2000, Goroutines: 4, Seed: 1, SlowProbability: 0.03, SlowDelay: 200 * time.Millisecond}

// A HedgeRow is a row of the table: a method of hedge.v1.HedgeService, and
// its policy in hedge.proto.
type HedgeRow struct {
	Method string
	Policy string
	// Hedged says whether the .proto hedges the method.
	Hedged bool
}

// HedgeRows are the rows of the table, in its order.
var HedgeRows = []HedgeRow{
	{Method: "Plain", Policy: "no hedging, retries 0"},
	{Method: "Fixed", Policy: "hedging {max_attempts: 2, delay: 20ms}", Hedged: true},
	{Method: "Adaptive", Policy: "hedging {max_attempts: 2, delay_percentile: 95}", Hedged: true},
}

// A hedgeJob is what a hedge client process does: Calls calls of Method
// from Goroutines goroutines, after resetting the providers' slow tails.
type hedgeJob struct {
	Method          string
	Providers       []provider
	Calls           int
	Goroutines      int
	Seed            uint64
	SlowProbability float64
	SlowDelay       time.Duration
	CallTimeout     time.Duration
}

// A HedgeResult is what a row came to.
type HedgeResult struct {
	Row HedgeRow
	// Latencies are the calls' latencies, in the order of their numbers.
	Latencies []time.Duration
	// Failures counts the failed calls by code, and Errors holds the error
	// of one of them for each code.
	Failures map[string]int
	Errors   map[string]string
	// SlowWins are the calls whose answer came from a slow attempt (the
	// response says so).
	SlowWins int
	// Providers are each provider's counts, by method.
	Providers []map[string]HedgeCounts
	// InFlight are the attempts still in their handlers when the counts
	// were read (0 unless a handler outlived the wait).
	InFlight int
	Elapsed  time.Duration
}

// Counts sums the providers' counts of every method.
func (r HedgeResult) Counts() HedgeCounts {
	var t HedgeCounts
	for _, p := range r.Providers {
		for _, c := range p {
			t.add(c)
		}
	}
	return t
}

// OtherAttempts are the attempts the providers counted of methods other
// than the row's: none, unless something else called them.
func (r HedgeResult) OtherAttempts() int64 {
	var n int64
	for _, p := range r.Providers {
		for m, c := range p {
			if m != r.Row.Method {
				n += c.Attempts
			}
		}
	}
	return n
}

// Calls is the number of calls of the row.
func (r HedgeResult) Calls() int { return len(r.Latencies) }

// Failed is the number of calls that failed.
func (r HedgeResult) Failed() int {
	n := 0
	for _, v := range r.Failures {
		n += v
	}
	return n
}

// AttemptsPerCall is the attempts the providers counted over the calls.
func (r HedgeResult) AttemptsPerCall() float64 {
	return float64(r.Counts().Attempts) / float64(r.Calls())
}

// LosingSlow are the slow attempts that did not win their call: the slow
// copies that lost to a faster one (and those of failed calls).
func (r HedgeResult) LosingSlow() int64 { return r.Counts().Slow - int64(r.SlowWins) }

// Percentile returns the p-th percentile (0 < p <= 100) of the latencies,
// by nearest rank: the smallest latency that at least p% of the calls do
// not exceed.
func (r HedgeResult) Percentile(p float64) time.Duration { return percentile(r.Latencies, p) }

// A HedgeReport is the whole measurement.
type HedgeReport struct {
	Config  HedgeConfig
	Results []HedgeResult
	// Listeners are the sockets the processes listened on, by process
	// (Linux only): every one is on 127.0.0.1, or RunHedge fails.
	Listeners map[string][]childproc.Socket
}

// RunHedge starts the providers, runs every row in a client process of its
// own, one after the other, and stops the providers.
func RunHedge(c HedgeConfig) (*HedgeReport, error) {
	rep := &HedgeReport{Config: c, Listeners: map[string][]childproc.Socket{}}
	providers, stop, err := startProviders(3, c.Log, rep.Listeners)
	if err != nil {
		return nil, err
	}
	defer stop()
	for _, row := range HedgeRows {
		res, err := runHedgeJob(c, rep.Listeners, providers, row)
		if err != nil {
			return nil, err
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// runHedgeJob runs a hedge client process for row, and returns its result;
// it records the sockets the process listened on in listeners.
func runHedgeJob(c HedgeConfig, listeners map[string][]childproc.Socket, providers []provider, row HedgeRow) (HedgeResult, error) {
	j := hedgeJob{
		Method: row.Method, Providers: providers, Calls: c.Calls, Goroutines: c.Goroutines, Seed: c.Seed,
		SlowProbability: c.SlowProbability, SlowDelay: c.SlowDelay, CallTimeout: 10 * time.Second,
	}
	name := fmt.Sprintf("hedge client (%s)", row.Method)
	res, err := runClientProcess[HedgeResult](c.Log, listeners, name, "hedge-client", j)
	if err != nil {
		return HedgeResult{}, err
	}
	res.Row = row
	return res, nil
}

// runHedgeClient is the job of the role "hedge-client" (clientRole): the
// row's result.
func runHedgeClient(ctx context.Context, j hedgeJob) (HedgeResult, error) {
	var none HedgeResult
	cli, err := newTripleClient(j.Providers)
	if err != nil {
		return none, err
	}
	svc, err := hedgev1.NewHedgeService(cli)
	if err != nil {
		return none, err
	}
	var method func(context.Context, *hedgev1.HedgeRequest, ...client.CallOption) (*hedgev1.HedgeResponse, error)
	switch j.Method {
	case "Plain":
		method = svc.Plain
	case "Fixed":
		method = svc.Fixed
	case "Adaptive":
		method = svc.Adaptive
	default:
		return none, fmt.Errorf("unknown method %q", j.Method)
	}

	// Every row starts from the same draws: provider i's source is seeded
	// with the run's seed and i.
	for i, p := range j.Providers {
		if err := hedgeReset(p.Control, j.Seed, i, j.SlowProbability, j.SlowDelay); err != nil {
			return none, err
		}
	}

	res := HedgeResult{Latencies: make([]time.Duration, j.Calls)}
	codes := make([]string, j.Calls)
	errs := make([]error, j.Calls)
	var slowWins atomic.Int64
	start := time.Now()
	callConcurrently(j.Calls, j.Goroutines, func(i int) {
		callCtx, cancel := context.WithTimeout(ctx, j.CallTimeout)
		t := time.Now()
		resp, err := method(callCtx, &hedgev1.HedgeRequest{Id: uint64(i)})
		res.Latencies[i] = time.Since(t)
		cancel()
		switch {
		case err != nil:
			codes[i], errs[i] = codeName(tripleCode(err)), err
		case resp.GetId() != uint64(i):
			codes[i], errs[i] = "WRONG_ANSWER", fmt.Errorf("call %d got the answer of call %d", i, resp.GetId())
		case resp.GetSlow():
			slowWins.Add(1)
		}
	})
	res.Elapsed = time.Since(start)
	if err := ctx.Err(); err != nil {
		return none, fmt.Errorf("the job did not end within %v", jobTimeout)
	}
	res.SlowWins = int(slowWins.Load())
	_, res.Failures, res.Errors = tally(codes, errs)

	// Let the copies still on their way reach their handlers, and the
	// losing ones that nothing cancelled sleep their delay out, before
	// reading the counts.
	time.Sleep(50 * time.Millisecond)
	deadline := time.Now().Add(2*j.SlowDelay + 5*time.Second)
	for {
		res.Providers, res.InFlight = nil, 0
		for _, p := range j.Providers {
			s, err := hedgeStateOf(p.Control)
			if err != nil {
				return none, err
			}
			res.Providers = append(res.Providers, s.Counts)
			res.InFlight += s.InFlight
		}
		if res.InFlight == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return res, nil
}
