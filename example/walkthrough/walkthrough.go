// Package walkthrough calls the Greet service through each layer of
// dubbo-go's retry settings, and through each part of the retry policy
// greet.proto declares, and reports what the server saw, to show what
// protoc-gen-go-retry's .proto defaults do and how they rank.
//
// The server (package greetserver) fails the first three attempts of a
// call with a retryable error and answers the fourth, so a call succeeds
// when its retries are 3 or more; the request's name makes it fail
// otherwise, or be slow, for the rows of the policy.
//
// Every row but the budget's runs without greet.proto's budget
// (dubboretry.WithoutBudget()): the budget is per service per process, and
// its gate, which learns whether retries help, would learn from the
// failures the server makes on purpose in one row, and refuse the retries
// of the next.
package walkthrough

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/precedence"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

// OutageCalls is how many calls each outage row makes. With greet.proto's
// budget of a tenth of the calls plus 20 retries, 500 calls are enough for
// the ratio to show through the reserve, and take about a second on
// loopback.
const OutageCalls = 500

// HedgeCalls is how many calls the hedging row makes: its first copy goes
// to the slow provider or to the fast one, as the load balancer draws.
const HedgeCalls = 20

// JitterSeed seeds the delays of the backoff row (dubboretry.WithJitterSeed),
// so that the walkthrough knows them.
const JitterSeed = 4

// What a step checks beyond its attempts and its outcome.
type check int

const (
	checkNone    check = iota
	checkBackoff       // the server saw the attempts at least the drawn delays apart
	checkTimeout       // the first attempt was cut, by its deadline
	checkBudget        // the attempts are what the .proto's budget allows
	checkHedge         // every copy the slow provider got was cancelled
)

// A Step is one row of the walkthrough: one call, or many for an outage.
type Step struct {
	Layer string // the layer of the precedence table that decides
	SetBy string // what decides
	// The attempts the server should see for each call, and whether the
	// calls should succeed. A budget row computes its attempts instead.
	WantAttempts int
	WantOK       bool

	method      string // the method called; GreetRetry by default
	calls       int    // how many calls the step makes; 1 by default
	clientOpts  []client.ClientOption
	serviceOpts []client.ReferenceOption
	callOpts    []client.CallOption
	name        string               // the request's name; by default the step's own
	bare        bool                 // call as protoc-gen-go-triple's code does
	hedge       bool                 // call the slow provider and the fast one
	withBudget  bool                 // the step runs with the .proto's budget; the others, without
	wantCode    triple_protocol.Code // the code every call should fail with
	says        string               // more for the result column
	check       check
}

// Steps are the rows of the walkthrough: the layers of the retries, from
// the lowest to the highest, then the parts of greet.proto's policy.
var Steps = append(layerSteps(), policySteps...)

// layerSteps are the rows of the precedence table that the demo shows
// (precedence.DemoRows), made on GreetRetry: greet.proto gives it 3
// retries, as it gives LayerService.Declared, and the server fails the
// first Failures attempts of a call, so a call succeeds when its retries
// are Failures or more.
func layerSteps() []Step {
	var steps []Step
	for _, r := range precedence.DemoRows(precedence.Target{Proto: "greet.proto", Service: "GreetService", Declared: "GreetRetry"}) {
		steps = append(steps, Step{
			Layer: r.Layer, SetBy: r.SetBy,
			WantAttempts: int(min(r.Retries, greetserver.Failures)) + 1,
			WantOK:       r.Retries >= greetserver.Failures,
			bare:         r.Bare,
			clientOpts:   r.Client,
			serviceOpts:  r.Service,
			callOpts:     r.Call,
		})
	}
	return steps
}

// policySteps are the rows of greet.proto's policy.
var policySteps = []Step{
	{
		Layer: "-", SetBy: "none: the handler returned a plain error",
		WantAttempts: 1,
		name:         greetserver.PlainErrorPrefix + " (the sample's server)",
	},
	{
		Layer: "2", SetBy: "greet.proto: GreetRetry's retry_on = CODE_UNAVAILABLE",
		WantAttempts: 1, wantCode: triple_protocol.CodeInvalidArgument, says: "not retried",
		name: greetserver.InvalidArgumentPrefix + " (a bad name)",
	},
	{
		Layer: "2", SetBy: "greet.proto: GreetBackoff's backoff " + formatBackoff(backoffOf("GreetBackoff")),
		WantAttempts: 4, WantOK: true,
		method:      "GreetBackoff",
		serviceOpts: []client.ReferenceOption{dubboretry.WithJitterSeed(JitterSeed)},
		check:       checkBackoff,
	},
	{
		Layer: "2", SetBy: fmt.Sprintf("greet.proto: GreetTimeout's timeout = %v", timeoutOf("GreetTimeout")),
		WantAttempts: 2, WantOK: true,
		method: "GreetTimeout",
		name:   greetserver.SlowFirstPrefix + " (the first attempt is slow)",
		check:  checkTimeout,
	},
	{
		Layer: "2", SetBy: "greet.proto: GreetHedge's hedging " + formatHedging(hedgingOf("GreetHedge")),
		WantOK: true, method: "GreetHedge", calls: HedgeCalls, hedge: true,
		name: "hedged", check: checkHedge,
	},
	{
		Layer: "2", SetBy: "greet.proto: budget " + formatBudget(budgetOf()),
		calls: OutageCalls, wantCode: triple_protocol.CodeUnavailable,
		name:  greetserver.OutagePrefix + " (with the budget)",
		check: checkBudget, withBudget: true,
	},
	{
		Layer: "3", SetBy: "... and dubboretry.WithoutBudget()",
		WantAttempts: 4, calls: OutageCalls, wantCode: triple_protocol.CodeUnavailable,
		name: greetserver.OutagePrefix + " (without)",
	},
}

// A Result is what one step did.
type Result struct {
	Step
	Calls    int   // the calls made
	Attempts int   // the attempts the server saw, over all the calls
	Err      error // the last call's error
	// WantMin and WantMax bound the attempts the server should see, over
	// all the calls.
	WantMin, WantMax int

	// For a backoff row: the delays the service drew (its seed's), and
	// the time between one attempt and the next, as the server saw them.
	Delays, Gaps []time.Duration
	// For a timeout row: whether the server saw the first attempt cut, and
	// when, after the call began, it saw the second.
	Cut    bool
	Second time.Duration
	// For a budget row: the retries the budget allows.
	Allowed int
	// For the hedging row: the copies the slow provider got, and how many of
	// them were cancelled.
	SlowCopies, Cancelled int

	// Problem says what else the step did wrong, if anything.
	Problem string
}

// OK reports whether the step did what it should.
func (r Result) OK() bool {
	return r.Attempts >= r.WantMin && r.Attempts <= r.WantMax && (r.Err == nil) == r.WantOK && r.Problem == ""
}

// unexpected says how r differs from what its step expects.
func (r Result) unexpected() string {
	var why []string
	if r.Attempts < r.WantMin || r.Attempts > r.WantMax || (r.Err == nil) != r.WantOK {
		want := "ok"
		if !r.WantOK {
			want = "a failure"
		}
		attempts := strconv.Itoa(r.WantMin)
		if r.WantMax != r.WantMin {
			attempts = fmt.Sprintf("%d to %d", r.WantMin, r.WantMax)
		}
		why = append(why, fmt.Sprintf("want %s attempts and %s", attempts, want))
	}
	if r.Problem != "" {
		why = append(why, r.Problem)
	}
	return strings.Join(why, "; ")
}

// PerCall returns the attempts the server saw for each call.
func (r Result) PerCall() float64 {
	return float64(r.Attempts) / float64(r.Calls)
}

// Servers are the Greet servers the walkthrough calls: the one at Addr,
// which is Srv, in this process, and for the hedging row Fast, another
// provider of the service, in a process of its own (StartFast). Srv is Slow.
type Servers struct {
	Addr string
	Srv  *greetserver.GreetTripleServer
	Fast string
}

// Run makes the calls of each step on the Greet servers.
func Run(ctx context.Context, servers Servers) ([]Result, error) {
	var results []Result
	for i, s := range Steps {
		name := s.name
		if name == "" {
			name = "step " + strconv.Itoa(i)
		}
		r, err := s.run(ctx, servers, name)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", i, err)
		}
		results = append(results, r)
	}
	return results, nil
}

// run makes the calls of s, with the request name, and checks what the
// server saw.
func (s Step) run(ctx context.Context, servers Servers, name string) (Result, error) {
	calls := max(s.calls, 1)
	url := "tri://" + servers.Addr
	if s.hedge {
		url += ";tri://" + servers.Fast
	}
	call, err := s.caller(url)
	if err != nil {
		return Result{}, err
	}
	req := &greet.GreetRequest{Name: name}
	r := Result{Step: s, Calls: calls}
	start := time.Now()
	for range calls {
		r.Err = call(ctx, req)
		if r.Err != nil && triple_protocol.CodeOf(r.Err) == triple_protocol.CodeUnknown {
			return Result{}, r.Err
		}
		if s.wantCode != 0 && triple_protocol.CodeOf(r.Err) != s.wantCode && r.Problem == "" {
			r.Problem = fmt.Sprintf("a call failed with %v, want %v", r.Err, s.wantCode)
		}
	}
	// A call may return before the server has ended an attempt it gave up
	// on: wait for the server to end them all.
	log, err := servers.Srv.Log(ctx, name)
	if err != nil {
		return Result{}, err
	}
	r.Attempts = len(log)
	r.WantMin, r.WantMax = s.WantAttempts*calls, s.WantAttempts*calls

	switch s.check {
	case checkBackoff:
		b := backoffOf(s.methodName())
		draws := rand.New(rand.NewPCG(JitterSeed, JitterSeed))
		for i := 1; i < len(log); i++ {
			delay, gap := b.Delay(i, draws.Float64()), log[i].At.Sub(log[i-1].At)
			r.Delays, r.Gaps = append(r.Delays, delay), append(r.Gaps, gap)
			if gap < delay && r.Problem == "" {
				r.Problem = fmt.Sprintf("attempts %d and %d %v apart, less than the delay %v", i, i+1, gap.Round(time.Microsecond), delay.Round(time.Microsecond))
			}
		}
	case checkTimeout:
		r.Cut = len(log) > 0 && log[0].Cut
		if len(log) > 1 {
			r.Second = log[1].At.Sub(start)
		}
		limit := timeoutOf(s.methodName())
		switch {
		case !r.Cut:
			r.Problem = "the first attempt was not cut"
		case r.Second < limit:
			// The client cuts an attempt at its limit, and only then
			// makes the next: the second cannot come sooner.
			r.Problem = fmt.Sprintf("the second attempt came %v into the call, before the limit of %v", r.Second.Round(time.Microsecond), limit)
		}
	case checkHedge:
		// The fast provider answers every call, once; the slow one gets the
		// first copy of some calls, which the fast one's answer to the
		// second cancels.
		r.SlowCopies = len(log)
		for _, a := range log {
			if a.Cut {
				r.Cancelled++
			}
		}
		r.Attempts = calls + len(log)
		r.WantMin, r.WantMax = calls+1, 2*calls
		if r.Cancelled != r.SlowCopies {
			r.Problem = fmt.Sprintf("%d of the slow provider's %d copies were not cancelled", r.SlowCopies-r.Cancelled, r.SlowCopies)
		}
	case checkBudget:
		// Each call fails every attempt, and may retry as often as
		// greet.proto says, but the budget's gate closes once
		// gateFailures retries in a row have failed, within the cap, and
		// then lets one retry through every 10 s: one more if the row took
		// that long.
		r.Allowed = min(gateFailures, allowed(budgetOf(), calls))
		r.WantMin, r.WantMax = calls+r.Allowed, calls+r.Allowed+1+int(time.Since(start)/(10*time.Second))
	}
	return r, nil
}

// gateFailures is how many retries in a row must fail for the budget's gate
// to close (retry.proto, Budget).
const gateFailures = 5

// allowed returns the retries the budget b allows calls calls within its
// window of 10 s: ratio x calls + 10 x min_retries_per_second.
func allowed(b dubboretry.Budget, calls int) int {
	// The tolerance is the budget's own: 0.29 x 100 allows 29.
	return int(math.Floor(b.Ratio*float64(calls) + 10*float64(b.MinRetriesPerSecond) + 1e-9))
}

// isOutage reports whether the step is one of the outage rows.
func (s Step) isOutage() bool { return strings.HasPrefix(s.name, greetserver.OutagePrefix) }

// methodName returns the name of the method the step calls.
func (s Step) methodName() string {
	if s.method == "" {
		return "GreetRetry"
	}
	return s.method
}

// caller returns a function that calls the step's method, on the
// providers at url, as the step says.
func (s Step) caller(url string) (func(context.Context, *greet.GreetRequest) error, error) {
	method := s.methodName()
	cli, err := client.NewClient(append([]client.ClientOption{client.WithClientURL(url)}, s.clientOpts...)...)
	if err != nil {
		return nil, err
	}
	if s.bare {
		// What a protoc-gen-go-triple stub does: dial the service as it is
		// and call the method.
		conn, err := cli.DialWithInfo(greet.GreetServiceName, &greet.GreetService_ClientInfo, s.serviceOpts...)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, req *greet.GreetRequest) error {
			return conn.CallUnary(ctx, []any{req}, new(greet.GreetResponse), method, s.callOpts...)
		}, nil
	}
	opts := s.serviceOpts
	if !s.withBudget {
		opts = append([]client.ReferenceOption{dubboretry.WithoutBudget()}, opts...)
	}
	svc, err := greet.NewGreetService(cli, opts...)
	if err != nil {
		return nil, err
	}
	var m func(context.Context, *greet.GreetRequest, ...client.CallOption) (*greet.GreetResponse, error)
	switch method {
	case "GreetRetry":
		m = svc.GreetRetry
	case "GreetBackoff":
		m = svc.GreetBackoff
	case "GreetTimeout":
		m = svc.GreetTimeout
	case "GreetHedge":
		m = svc.GreetHedge
	default:
		return nil, fmt.Errorf("no method %s", method)
	}
	return func(ctx context.Context, req *greet.GreetRequest) error {
		_, err := m(ctx, req, s.callOpts...)
		return err
	}, nil
}

// Print writes results as a table, followed by notes on what the server
// saw of the rows of the policy.
func Print(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\tset by\tattempts\tresult")
	var notes []string
	outage := "" // the mark of the note on the outage rows
	for _, r := range results {
		attempts := strconv.Itoa(r.Attempts)
		if r.Calls > 1 {
			attempts = fmt.Sprintf("%.2f", r.PerCall())
		}
		if r.check == checkHedge {
			// A call's first copy may have gone to either provider.
			attempts = fmt.Sprintf("%.2f", r.PerCall())
		}
		result := "ok"
		if r.Err != nil {
			result = "failed: " + describeErr(r.Err)
		}
		if r.says != "" {
			result += ", " + r.says
		}
		mark := ""
		switch {
		case r.check == checkBackoff:
			mark = addNote(&notes, backoffNote(r))
		case r.check == checkTimeout:
			mark = addNote(&notes, timeoutNote(r))
		case r.check == checkHedge:
			mark = addNote(&notes, hedgeNote(r))
		case r.isOutage() && outage == "":
			outage = addNote(&notes, outageNote(results))
			mark = outage
		case r.isOutage():
			mark = outage
		}
		if mark != "" {
			result += " " + mark
		}
		if !r.OK() {
			result += "  UNEXPECTED: " + r.unexpected()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Layer, r.SetBy, attempts, result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		if _, err := fmt.Fprintf(w, "\n%s", n); err != nil {
			return err
		}
	}
	return nil
}

// addNote adds note to notes, marked with the next letter, and returns the
// mark.
func addNote(notes *[]string, note string) string {
	mark := fmt.Sprintf("(%c)", 'a'+len(*notes))
	*notes = append(*notes, mark+" "+strings.ReplaceAll(note, "\n", "\n    ")+"\n")
	return mark
}

// backoffNote explains the backoff row r.
func backoffNote(r Result) string {
	gaps := "each gap at least its delay"
	if r.Problem != "" {
		gaps = "not every gap at least its delay"
	}
	return fmt.Sprintf("The server saw the attempts %s apart: %s,\n"+
		"%s, drawn by dubboretry.WithJitterSeed(%d) below %s.",
		formatDurations(r.Gaps), gaps, formatDurations(r.Delays), JitterSeed, formatDurations(ceilings(backoffOf(r.methodName()), len(r.Delays))))
}

// timeoutNote explains the timeout row r.
func timeoutNote(r Result) string {
	cut := "The first attempt was cut: the server saw its context end"
	if !r.Cut {
		cut = "The first attempt was not cut: the server did not see its context end"
	}
	if r.Attempts < 2 {
		return cut + "."
	}
	return fmt.Sprintf("%s, and the second attempt\nbegin %v into the call.", cut, r.Second.Round(time.Millisecond))
}

// hedgeNote explains the hedging row r.
func hedgeNote(r Result) string {
	return fmt.Sprintf("A slow provider (it answers after %v) and a fast one: %d of the %d calls sent their first\n"+
		"copy to the slow one, and a second to the fast one %v later, whose answer won; the slow\n"+
		"provider saw %d of those %d copies cancelled.",
		greetserver.SlowAttempt, r.SlowCopies, r.Calls, hedgingOf(r.methodName()).Delay, r.Cancelled, r.SlowCopies)
}

// outageNote explains the outage rows of results.
func outageNote(results []Result) string {
	var with, without *Result
	for i, r := range results {
		switch {
		case r.check == checkBudget:
			with = &results[i]
		case r.isOutage() && !r.withBudget:
			without = &results[i]
		}
	}
	if with == nil || without == nil {
		return "An outage: every attempt fails."
	}
	b := budgetOf()
	return fmt.Sprintf("An outage: every attempt fails. With the budget, the %d calls made %d attempts;\n"+
		"without it, %d. Its cap allows %v x calls + %d retries in any 10 s, but its gate\n"+
		"closed once %d retries in a row had failed: from then on, one retry every 10 s.",
		with.Calls, with.Attempts, without.Attempts,
		b.Ratio, 10*b.MinRetriesPerSecond, gateFailures)
}

// ceilings returns the ceilings of the first n delays of b.
func ceilings(b dubboretry.Backoff, n int) []time.Duration {
	cs := make([]time.Duration, n)
	for i := range cs {
		cs[i] = b.Ceiling(i + 1)
	}
	return cs
}

// describeErr names the failure err for the result column.
func describeErr(err error) string {
	switch code := triple_protocol.CodeOf(err); code {
	case triple_protocol.CodeBizError:
		return "business error, not retried"
	default:
		return code.String()
	}
}

// formatDurations formats ds to the millisecond, as a list in prose.
// Rounding keeps order: a gap at least its delay is printed at least as
// long.
func formatDurations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.Round(time.Millisecond).String()
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// The policy greet.proto declares, read from its descriptor: what the rows
// expect, and the text they show, follow the .proto.

// methodRetry returns the (retry.v1.method) option of method.
func methodRetry(method string) *retryv1.MethodRetry {
	m := greet.File_greet_proto.Services().ByName("GreetService").Methods().ByName(protoreflect.Name(method))
	if m == nil {
		panic("greet.proto has no method GreetService." + method)
	}
	return proto.GetExtension(m.Options(), retryv1.E_Method).(*retryv1.MethodRetry)
}

// backoffOf returns the backoff greet.proto declares for method.
func backoffOf(method string) dubboretry.Backoff {
	b := methodRetry(method).GetBackoff()
	if b == nil {
		panic("greet.proto declares no backoff for " + method)
	}
	return dubboretry.Backoff{Initial: b.GetInitial().AsDuration(), Max: b.GetMax().AsDuration(), Multiplier: b.GetMultiplier()}
}

// timeoutOf returns the timeout greet.proto declares for method.
func timeoutOf(method string) time.Duration {
	t := methodRetry(method).GetTimeout()
	if t == nil {
		panic("greet.proto declares no timeout for " + method)
	}
	return t.AsDuration()
}

// budgetOf returns the budget greet.proto declares for GreetService, its
// default reserve of 10 retries a second filled in.
func budgetOf() dubboretry.Budget {
	s := greet.File_greet_proto.Services().ByName("GreetService")
	b := proto.GetExtension(s.Options(), retryv1.E_Service).(*retryv1.ServiceRetry).GetBudget()
	if b == nil {
		panic("greet.proto declares no budget for GreetService")
	}
	perSecond := uint32(10) // unset: the default
	if b.MinRetriesPerSecond != nil {
		perSecond = b.GetMinRetriesPerSecond()
	}
	return dubboretry.Budget{Ratio: b.GetRatio(), MinRetriesPerSecond: perSecond}
}

// hedgingOf returns the hedging greet.proto declares for method.
func hedgingOf(method string) dubboretry.Hedging {
	h := methodRetry(method).GetHedging()
	if h == nil {
		panic("greet.proto declares no hedging for " + method)
	}
	return dubboretry.Hedging{MaxAttempts: h.GetMaxAttempts(), Delay: h.GetDelay().AsDuration(), DelayPercentile: h.GetDelayPercentile()}
}

// formatHedging formats h as greet.proto would declare it.
func formatHedging(h dubboretry.Hedging) string {
	if h.Delay > 0 {
		return fmt.Sprintf("{max_attempts: %d, delay: %v}", h.MaxAttempts, h.Delay)
	}
	return fmt.Sprintf("{max_attempts: %d, delay_percentile: %v}", h.MaxAttempts, h.DelayPercentile)
}

// formatBackoff formats b as greet.proto would declare it.
func formatBackoff(b dubboretry.Backoff) string {
	s := fmt.Sprintf("{initial: %v", b.Initial)
	if b.Max != 0 {
		s += fmt.Sprintf(", max: %v", b.Max)
	}
	if b.Multiplier != 0 {
		s += fmt.Sprintf(", multiplier: %v", b.Multiplier)
	}
	return s + "}"
}

// formatBudget formats b as greet.proto would declare it, with its reserve
// filled in.
func formatBudget(b dubboretry.Budget) string {
	return fmt.Sprintf("{ratio: %v, min_retries_per_second: %d}", b.Ratio, b.MinRetriesPerSecond)
}

// PolicyOptions are the options of the service whose effective policy the
// walkthrough prints: a layer of each kind over greet.proto's.
var (
	PolicyClientOptions  = []client.ClientOption{client.WithClientRetries(1), client.WithClientRequestTimeout(2 * time.Second)}
	PolicyServiceOptions = []client.ReferenceOption{
		client.WithMethod(&global.MethodConfig{Name: "GreetRetry", Retries: "5"}),
		client.WithRequestTimeout(time.Second),
		dubboretry.WithMethodBackoff("GreetRetry", 10*time.Millisecond, 0, 0),
	}
)

// EffectivePolicy creates GreetService on the server at addr with
// PolicyClientOptions and PolicyServiceOptions, and returns its policy.
func EffectivePolicy(addr string) (*dubboretry.Policy, error) {
	cli, err := client.NewClient(append([]client.ClientOption{client.WithClientURL("tri://" + addr)}, PolicyClientOptions...)...)
	if err != nil {
		return nil, err
	}
	svc, err := greet.NewGreetService(cli, PolicyServiceOptions...)
	if err != nil {
		return nil, err
	}
	return dubboretry.PolicyOf(svc), nil
}
