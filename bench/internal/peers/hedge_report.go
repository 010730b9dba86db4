package peers

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of ds by nearest
// rank: the smallest of ds that at least p% of them do not exceed; 0 for
// none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	// Less a hair, for the rounding of p: 99.9% of 2,000 is 1,998.
	rank := int(math.Ceil(p/100*float64(len(s)) - 1e-9))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// ms writes d in milliseconds: 0.43 ms, 201.2 ms.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}

// cancelledCell writes the share of the losing slow copies of r that saw
// their context end.
func cancelledCell(r HedgeResult) string {
	losing := r.LosingSlow()
	if losing <= 0 {
		return "n/a (no losing slow copy)"
	}
	c := r.Counts().SlowCancelled
	return fmt.Sprintf("%d of %d (%.0f%%)", c, losing, 100*float64(c)/float64(losing))
}

// A hedgeGoal is a goal of the issue for a row.
type hedgeGoal struct {
	method, goal string
	// check returns what was measured and whether it meets the goal; ok is
	// "met", "not met" or "n/a".
	check func(r HedgeResult) (measured, ok string)
}

func met(b bool) string {
	if b {
		return "met"
	}
	return "not met"
}

// hedgeGoals are the goals of the issue, measured on loopback with its
// setup (HedgeDefault).
var hedgeGoals = []hedgeGoal{
	{"Plain", "p99 about 200 ms", func(r HedgeResult) (string, string) {
		return ms(r.Percentile(99)), "the baseline"
	}},
	{"Fixed", "p99 at most 50 ms", p99AtMost(50 * time.Millisecond)},
	{"Fixed", "at most 1.08 attempts a call", attemptsAtMost(1.08)},
	{"Fixed", "every call succeeds", func(r HedgeResult) (string, string) {
		return fmt.Sprintf("%d failed", r.Failed()), met(r.Failed() == 0)
	}},
	{"Fixed", "at least 80% of the losing slow copies see their context end", cancelledAtLeast(0.8)},
	{"Adaptive", "p99 at most 50 ms", p99AtMost(50 * time.Millisecond)},
	{"Adaptive", "at most 1.12 attempts a call", attemptsAtMost(1.12)},
	{"Adaptive", "at least 80% of the losing slow copies see their context end", cancelledAtLeast(0.8)},
}

func p99AtMost(d time.Duration) func(HedgeResult) (string, string) {
	return func(r HedgeResult) (string, string) {
		p := r.Percentile(99)
		return ms(p), met(p <= d)
	}
}

func attemptsAtMost(a float64) func(HedgeResult) (string, string) {
	return func(r HedgeResult) (string, string) {
		v := r.AttemptsPerCall()
		return fmt.Sprintf("%.3f", v), met(v <= a)
	}
}

func cancelledAtLeast(share float64) func(HedgeResult) (string, string) {
	return func(r HedgeResult) (string, string) {
		losing := r.LosingSlow()
		if losing <= 0 {
			return "no losing slow copy", "n/a"
		}
		return cancelledCell(r), met(float64(r.Counts().SlowCancelled) >= share*float64(losing))
	}
}

// Write prints the report: the header, the table, the goals of the issue,
// and the details of every row.
func (r *HedgeReport) Write(w io.Writer, h Header) {
	c := r.Config
	h.write(w, "Hedging: the Triple client of protoc-gen-go-retry (dubboretry) on providers with a slow tail")
	fmt.Fprintf(w, "setup:    3 provider processes on 127.0.0.1 serving hedge.v1.HedgeService over Triple (dubbo-go):\n")
	fmt.Fprintf(w, "          each attempt takes %v with probability %g%% and otherwise answers at once (seeded with\n", c.SlowDelay, 100*c.SlowProbability)
	fmt.Fprintf(w, "          %d and the provider's index, drawn anew for each row); a slow attempt whose context ends\n", c.Seed)
	fmt.Fprintf(w, "          fails then. %s calls a row from %d goroutines, each row in a client process of its own;\n", thousands(c.Calls), c.Goroutines)
	fmt.Fprintf(w, "          dubbo-go's random load balancer, no budget. Latency: each call, as its caller sees it.\n")
	writeListened(w, r.Listeners)
	fmt.Fprintln(w)

	fmt.Fprintln(w, "| row | policy | p50 | p99 | p99.9 | attempts a call | calls failed | slow attempts | slow copies cancelled |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, res := range r.Results {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.3f | %d | %d | %s |\n",
			res.Row.Method, res.Row.Policy, ms(res.Percentile(50)), ms(res.Percentile(99)), ms(res.Percentile(99.9)),
			res.AttemptsPerCall(), res.Failed(), res.Counts().Slow, cancelledCell(res))
	}
	fmt.Fprintf(w, "\nattempts a call: the attempts the providers counted, over the calls. slow copies cancelled: of the\n")
	fmt.Fprintf(w, "slow attempts that did not win their call (the calls' responses say which provider answered and\n")
	fmt.Fprintf(w, "whether it was slow), those whose context ended before they answered.\n")

	var unhedged []string
	for _, res := range r.Results {
		if res.Row.Hedged && res.Counts().Attempts == int64(res.Calls()) {
			unhedged = append(unhedged, res.Row.Method)
		}
	}
	if len(unhedged) > 0 {
		fmt.Fprintf(w, "\nThe providers saw no second copy of any call of %s: no hedged copy reached them, and\n", strings.Join(unhedged, " or "))
		fmt.Fprintf(w, "those rows measure the client without hedging.\n")
	}

	byMethod := map[string]HedgeResult{}
	for _, res := range r.Results {
		byMethod[res.Row.Method] = res
	}
	fmt.Fprintf(w, "\nThe issue's goals (for its setup: 3%%, 200 ms, 2,000 calls, 4 goroutines; measured here, asserted by no test):\n")
	if d := HedgeDefault; c.Calls != d.Calls || c.Goroutines != d.Goroutines || c.SlowProbability != d.SlowProbability || c.SlowDelay != d.SlowDelay {
		fmt.Fprintf(w, "this run's setup is not the issue's: the verdicts are only a guide\n")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| row | goal | measured | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, g := range hedgeGoals {
		res, ok := byMethod[g.method]
		if !ok {
			continue
		}
		measured, verdict := g.check(res)
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", g.method, g.goal, measured, verdict)
	}

	fmt.Fprintf(w, "\nEvery row (the providers' counts; a slow attempt either saw its context end or answered):\n\n")
	fmt.Fprintln(w, "| row | calls | succeeded | attempts (by provider) | slow | slow, won its call | slow, lost, context ended | slow, lost, answered | fast, context ended | max latency | time |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, res := range r.Results {
		t := res.Counts()
		by := make([]string, len(res.Providers))
		for i, p := range res.Providers {
			var n int64
			for _, c := range p {
				n += c.Attempts
			}
			by[i] = fmt.Sprint(n)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d (%s) | %d | %d | %d | %d | %d | %s | %.1f s |\n",
			res.Row.Method, res.Calls(), res.Calls()-res.Failed(), t.Attempts, strings.Join(by, ", "),
			t.Slow, res.SlowWins, t.SlowCancelled, t.SlowAnswered-int64(res.SlowWins), t.FastCancelled,
			ms(res.Percentile(100)), res.Elapsed.Seconds())
	}
	for _, res := range r.Results {
		if n := res.OtherAttempts(); n > 0 {
			fmt.Fprintf(w, "  %s: the providers counted %d attempts of other methods meanwhile\n", res.Row.Method, n)
		}
		if res.InFlight > 0 {
			fmt.Fprintf(w, "  %s: %d attempts were still in their handlers when the counts were read\n", res.Row.Method, res.InFlight)
		}
		if t := res.Counts(); t.SlowAnswered < int64(res.SlowWins) {
			fmt.Fprintf(w, "  %s: %d calls won by a slow attempt, but the providers counted %d slow attempts that answered\n",
				res.Row.Method, res.SlowWins, t.SlowAnswered)
		}
	}

	var errs []string
	for _, res := range r.Results {
		for _, code := range sortedKeys(res.Errors) {
			errs = append(errs, fmt.Sprintf("  %s, %s (%d calls): %s", res.Row.Method, code, res.Failures[code], oneLine(res.Errors[code])))
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(w, "\nAn error of each code, by row:\n%s\n", strings.Join(errs, "\n"))
	}
}
