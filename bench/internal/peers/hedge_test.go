package peers

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	hedgev1 "github.com/dubbo-retry/protoc-gen-go-retry/bench/proto/hedge/v1"
)

// TestHedgeSmoke runs the three rows of the hedging measurement with few
// calls, and checks that the table is printed with sane values and that
// the providers' counts add up. The measurement itself, and its goals, are
// the command's (cmd/hedge), not a test's: no test asserts a time.
func TestHedgeSmoke(t *testing.T) {
	// More slow attempts than the 3%, shorter, so that 60 calls
	// see some.
	c := HedgeConfig{Calls: 60, Goroutines: 4, Seed: 1, SlowProbability: 0.1, SlowDelay: 100 * time.Millisecond, Log: processLog(t)}
	rep, err := RunHedge(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(HedgeRows) {
		t.Fatalf("%d rows of results, want %d", len(rep.Results), len(HedgeRows))
	}
	for i, res := range rep.Results {
		row := res.Row
		if row != HedgeRows[i] {
			t.Errorf("row %d is %+v, want %+v", i, row, HedgeRows[i])
		}
		if res.Calls() != c.Calls {
			t.Errorf("%s: %d latencies, want %d", row.Method, res.Calls(), c.Calls)
		}
		for j, l := range res.Latencies {
			if l < 0 {
				t.Errorf("%s: call %d took %v", row.Method, j, l)
			}
		}
		p50, p99, p999, top := res.Percentile(50), res.Percentile(99), res.Percentile(99.9), res.Percentile(100)
		if !(0 < p50 && p50 <= p99 && p99 <= p999 && p999 <= top) {
			t.Errorf("%s: p50 %v, p99 %v, p99.9 %v, max %v: want 0 < p50 <= p99 <= p99.9 <= max", row.Method, p50, p99, p999, top)
		}
		if a := res.AttemptsPerCall(); a < 1 || a > 2 {
			t.Errorf("%s: %.3f attempts a call, want 1 to 2", row.Method, a)
		}
		if len(res.Providers) != 3 {
			t.Errorf("%s: counts of %d providers, want 3", row.Method, len(res.Providers))
		}
		n := res.Counts()
		if n.Slow != n.SlowCancelled+n.SlowAnswered {
			t.Errorf("%s: %d slow attempts, %d cancelled and %d answered", row.Method, n.Slow, n.SlowCancelled, n.SlowAnswered)
		}
		if int64(res.SlowWins) > n.SlowAnswered {
			t.Errorf("%s: %d calls won by a slow attempt, of %d slow attempts that answered", row.Method, res.SlowWins, n.SlowAnswered)
		}
		if res.InFlight != 0 {
			t.Errorf("%s: %d attempts in flight when the counts were read", row.Method, res.InFlight)
		}
		if o := res.OtherAttempts(); o != 0 {
			t.Errorf("%s: %d attempts of other methods", row.Method, o)
		}
	}
	// Plain is neither hedged nor retried: one attempt a call, and (the
	// providers fail nothing) every call succeeds; every slow attempt won
	// its call.
	plain := rep.Results[0]
	if f := plain.Failed(); f != 0 {
		t.Errorf("Plain: %d calls failed: %v", f, plain.Errors)
	}
	if n := plain.Counts(); n.Attempts != int64(plain.Calls()) || n.Slow != int64(plain.SlowWins) {
		t.Errorf("Plain: %d attempts for %d calls, %d slow attempts and %d calls won by a slow one; want one attempt a call",
			n.Attempts, plain.Calls(), n.Slow, plain.SlowWins)
	}

	want := []string{
		"| row | policy | p50 | p99 | p99.9 | attempts a call | calls failed | slow attempts | slow copies cancelled |",
		"The issue's goals",
	}
	for _, row := range HedgeRows {
		want = append(want, "| "+row.Method+" | "+row.Policy+" | ")
	}
	checkReport(t, rep, want)
}

// TestHedgeTail checks a provider's slow tail in process: a slow attempt
// ends with its context, with an error, and every attempt is counted where
// it belongs.
func TestHedgeTail(t *testing.T) {
	h := new(hedgeTail)
	req := &hedgev1.HedgeRequest{Id: 7}

	// Slow, cancelled before its delay is over.
	if err := h.reset(1, 2, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	if _, err := h.serve(ctx, "Fixed", req); triple_protocol.CodeOf(err) != triple_protocol.CodeCanceled {
		t.Errorf("a slow attempt cancelled: %v, want CANCELED", err)
	}
	// Slow, its deadline passed.
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := h.serve(ctx, "Fixed", req); triple_protocol.CodeOf(err) != triple_protocol.CodeDeadlineExceeded {
		t.Errorf("a slow attempt past its deadline: %v, want DEADLINE_EXCEEDED", err)
	}
	// Slow, answering.
	if err := h.reset(1, 2, 1, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	resp, err := h.serve(context.Background(), "Fixed", req)
	if err != nil || resp.GetId() != 7 || resp.GetProvider() != 2 || !resp.GetSlow() {
		t.Errorf("a slow attempt: %v, %v; want id 7, provider 2, slow", resp, err)
	}
	// Fast, its context ended: it fails too.
	if err := h.reset(1, 2, 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.serve(done, "Plain", req); triple_protocol.CodeOf(err) != triple_protocol.CodeCanceled {
		t.Errorf("a fast attempt whose context ended: %v, want CANCELED", err)
	}
	resp, err = h.serve(context.Background(), "Plain", req)
	if err != nil || resp.GetSlow() {
		t.Errorf("a fast attempt: %v, %v", resp, err)
	}
	s := h.state()
	if want := (HedgeCounts{Attempts: 2, FastCancelled: 1}); s.Counts["Plain"] != want || len(s.Counts) != 1 || s.InFlight != 0 {
		t.Errorf("counts after the reset: %+v, want Plain %+v only", s, want)
	}

	if err := h.reset(1, 0, 1.5, 0); err == nil {
		t.Errorf("reset with a probability of 1.5: no error")
	}
}

// TestHedgeTailCounts checks the counts of slow attempts of every kind,
// and that the draws are reproducible: the same for the same seed and
// index, others for another index.
func TestHedgeTailCounts(t *testing.T) {
	h := new(hedgeTail)
	if err := h.reset(1, 0, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	h.serve(done, "Adaptive", &hedgev1.HedgeRequest{})
	h.serve(done, "Adaptive", &hedgev1.HedgeRequest{})
	if err := h.reset(1, 0, 1, 0); err != nil {
		t.Fatal(err)
	}
	h.serve(context.Background(), "Adaptive", &hedgev1.HedgeRequest{})
	if got, want := h.state().Counts["Adaptive"], (HedgeCounts{Attempts: 1, Slow: 1, SlowAnswered: 1}); got != want {
		t.Errorf("after a reset, one slow attempt answered: %+v, want %+v", got, want)
	}

	draws := func(seed uint64, index uint32) string {
		if err := h.reset(seed, index, 0.03, 0); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for range 2000 {
			resp, err := h.serve(context.Background(), "Plain", &hedgev1.HedgeRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetSlow() {
				b.WriteByte('s')
			} else {
				b.WriteByte('.')
			}
		}
		n := h.state().Counts["Plain"]
		if n.Slow != int64(strings.Count(b.String(), "s")) || n.Slow != n.SlowAnswered || n.Attempts != 2000 {
			t.Errorf("counts %+v for draws with %d slow", n, strings.Count(b.String(), "s"))
		}
		return b.String()
	}
	a, b, other := draws(1, 1), draws(1, 1), draws(1, 2)
	if a != b {
		t.Errorf("the same seed and index drew different attempts slow")
	}
	if a == other {
		t.Errorf("two indices drew the same attempts slow")
	}
	if n := strings.Count(a, "s"); n < 20 || n > 120 {
		t.Errorf("%d of 2,000 attempts slow at 3%%", n)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 2000; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{
		50: 1000 * time.Millisecond, 99: 1980 * time.Millisecond, 99.9: 1998 * time.Millisecond,
		100: 2000 * time.Millisecond, 0.01: time.Millisecond,
	} {
		if got := percentile(ds, p); got != want {
			t.Errorf("percentile(1..2000 ms, %v) = %v, want %v", p, got, want)
		}
	}
	if ds[0] != 2000*time.Millisecond {
		t.Errorf("percentile sorted its argument")
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("percentile(nil) = %v", got)
	}
}

// TestHedgeReport checks the report of results as a runtime that hedges
// would give them: the losing slow copies, and the goals.
func TestHedgeReport(t *testing.T) {
	lat := func(slow int) []time.Duration {
		ds := make([]time.Duration, 2000)
		for i := range ds {
			ds[i] = time.Millisecond
			if i < slow {
				ds[i] = 200 * time.Millisecond
			}
		}
		return ds
	}
	rep := &HedgeReport{Config: HedgeDefault, Results: []HedgeResult{
		{Row: HedgeRows[0], Latencies: lat(60), SlowWins: 60, Failures: map[string]int{},
			Providers: []map[string]HedgeCounts{{"Plain": {Attempts: 2000, Slow: 60, SlowAnswered: 60}}, {}, {}}},
		// 62 slow: 2 calls won by a slow copy (both were slow: 2 of 2,000
		// calls is below p99.9, by nearest rank), 60 losing,
		// 57 of them cancelled.
		{Row: HedgeRows[1], Latencies: lat(2), SlowWins: 2, Failures: map[string]int{},
			Providers: []map[string]HedgeCounts{
				{"Fixed": {Attempts: 1000, Slow: 30, SlowCancelled: 28, SlowAnswered: 2}},
				{"Fixed": {Attempts: 1070, Slow: 32, SlowCancelled: 29, SlowAnswered: 3}}, {}}},
		// Failed calls, and more attempts than the goal.
		{Row: HedgeRows[2], Latencies: lat(30), SlowWins: 0, Failures: map[string]int{"UNAVAILABLE": 3},
			Errors:    map[string]string{"UNAVAILABLE": "the provider is\nunavailable"},
			Providers: []map[string]HedgeCounts{{"Adaptive": {Attempts: 2300, Slow: 70, SlowCancelled: 50, SlowAnswered: 20}}}},
	}}
	var out bytes.Buffer
	rep.Write(&out, Header{Date: time.Now(), Command: "test"})
	got := out.String()
	for _, want := range []string{
		"| Plain | no hedging, retries 0 | 1.00 ms | 200.0 ms | 200.0 ms | 1.000 | 0 | 60 | n/a (no losing slow copy) |",
		"| Fixed | hedging {max_attempts: 2, delay: 20ms} | 1.00 ms | 1.00 ms | 1.00 ms | 1.035 | 0 | 62 | 57 of 60 (95%) |",
		"| Adaptive | hedging {max_attempts: 2, delay_percentile: 95} | 1.00 ms | 200.0 ms | 200.0 ms | 1.150 | 3 | 70 | 50 of 70 (71%) |",
		"| Plain | p99 about 200 ms | 200.0 ms | the baseline |",
		"| Fixed | p99 at most 50 ms | 1.00 ms | met |",
		"| Fixed | at most 1.08 attempts a call | 1.035 | met |",
		"| Fixed | every call succeeds | 0 failed | met |",
		"| Fixed | at least 80% of the losing slow copies see their context end | 57 of 60 (95%) | met |",
		"| Adaptive | p99 at most 50 ms | 200.0 ms | not met |",
		"| Adaptive | at most 1.12 attempts a call | 1.150 | not met |",
		"| Adaptive | at least 80% of the losing slow copies see their context end | 50 of 70 (71%) | not met |",
		"| Fixed | 2000 | 2000 | 2070 (1000, 1070, 0) | 62 | 2 | 57 | 3 | 0 | 200.0 ms |",
		"Adaptive, UNAVAILABLE (3 calls): the provider is unavailable",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "no hedged copy reached them") {
		t.Errorf("the report says no copy was sent, of rows that had some:\n%s", got)
	}

	// Hedged rows with one attempt a call: no copy reached the providers.
	rep.Results[1].Providers = []map[string]HedgeCounts{{"Fixed": {Attempts: 2000, Slow: 2, SlowAnswered: 2}}}
	out.Reset()
	rep.Write(&out, Header{Date: time.Now(), Command: "test"})
	if want := "The providers saw no second copy of any call of Fixed: no hedged copy reached them"; !strings.Contains(out.String(), want) {
		t.Errorf("the report lacks %q:\n%s", want, out.String())
	}
}
