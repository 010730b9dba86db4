package policy

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// Hedging on real servers. HedgeService.Read is NO_SIDE_EFFECTS, and its
// .proto hedges it: {max_attempts: 2, delay: 100ms}, retry_on
// [UNAVAILABLE]; Write is not idempotent, and declares nothing. The
// providers run in processes of their own (a process exports a service
// once), every one in mode "ok": each call's id carries a script
// (testbed.Script) that says what the call's n-th attempt does, counted
// over all providers in the order the attempts arrive (hang until its
// context ends, fail with a code, sleep, answer). A scripted attempt that
// answers reports its number, and each provider logs which attempts it
// served and which of them saw their context end, and why.
//
// No test asserts how long anything took: the scripts make the attempt
// counts, the codes, the provider that answered and the contexts that
// ended tell what happened.

// slow answers after half a second: long past any hedging delay here (the
// .proto's 100 ms, the options' 20 ms), so that a method that hedges would
// send its next copy first.
var slow = testbed.SleepThenAnswer(500 * time.Millisecond)

// hedge3 is a hedging of three copies 20 ms apart, for the options.
var hedge3 = dubboretry.Hedging{MaxAttempts: 3, Delay: 20 * time.Millisecond}

// hedgeProviders starts n providers and returns them, and a client that
// reaches them all.
func hedgeProviders(t *testing.T, n int) ([]*testbed.Provider, *client.Client) {
	t.Helper()
	modes := make([]string, n)
	for i := range modes {
		modes[i] = "ok" // the scripts decide
	}
	ps := startProviders(t, modes...)
	return ps, clientOf(t, ps)
}

// scripted returns a new id of the test that carries a script of steps.
func scripted(t *testing.T, steps ...testbed.Step) string {
	return testbed.Script(testbed.NewID(t.Name()), t.TempDir(), steps...)
}

// seenOf is what the providers saw of one scripted call.
type seenOf struct {
	id       string
	attempts []uint32          // by provider: the attempts of the call it served
	servedBy map[uint32]int    // attempt number → the provider that served it
	ended    map[uint32]string // attempt number → why its context ended
}

// observe reads what the providers ps saw of the scripted call id.
func observe(t *testing.T, ps []*testbed.Provider, id string) seenOf {
	t.Helper()
	s := seenOf{id: id, attempts: make([]uint32, len(ps)), servedBy: map[uint32]int{}, ended: map[uint32]string{}}
	for i, counts := range testbed.Counts(t, ps...) {
		s.attempts[i] = counts[id]
		for n := uint32(1); n <= 8; n++ {
			if counts[testbed.AttemptKey(id, n)] > 0 {
				if j, dup := s.servedBy[n]; dup {
					t.Fatalf("%s: attempt %d served by providers %d and %d", id, n, j, i)
				}
				s.servedBy[n] = i
			}
			for _, why := range []string{testbed.EndedCanceled, testbed.EndedDeadline} {
				if counts[testbed.EndedKey(id, n, why)] > 0 {
					s.ended[n] = why
				}
			}
		}
	}
	return s
}

// total returns the attempts of the call over all providers.
func (s seenOf) total() uint32 {
	var n uint32
	for _, a := range s.attempts {
		n += a
	}
	return n
}

// distinct reports whether no provider served two attempts of the call.
func (s seenOf) distinct() bool {
	return !slices.ContainsFunc(s.attempts, func(a uint32) bool { return a > 1 })
}

// awaitEnded returns what the providers saw of the call id once the
// contexts of its attempts ns have ended there: a provider's handler sees
// its context end a moment after the client let the attempt go, and
// records it then. It ends the test if they have not within 20 s: a bound,
// not a measurement.
func awaitEnded(t *testing.T, ps []*testbed.Provider, id string, ns ...uint32) seenOf {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := observe(t, ps, id)
		missing := slices.DeleteFunc(slices.Clone(ns), func(n uint32) bool { _, ok := s.ended[n]; return ok })
		if len(missing) == 0 {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no provider saw the context of attempts %v end; seen: %+v", id, missing, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkHedged checks a call that succeeded with the answer of its attempt
// n, having sent n copies to n distinct providers.
func checkHedged(t *testing.T, ps []*testbed.Provider, name, id string, resp *e2ev1.Response, err error, n uint32) seenOf {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v; want the answer of copy %d", name, err, n)
	}
	if resp.Attempts != n {
		t.Errorf("%s: answered by copy %d, want copy %d", name, resp.Attempts, n)
	}
	s := observe(t, ps, id)
	if s.total() != n || !s.distinct() {
		t.Errorf("%s: attempts by provider %v, want %d in all, on distinct providers", name, s.attempts, n)
	}
	return s
}

// The first success wins, and every other copy is cancelled: Read's first
// copy hangs until its context ends, so the call can succeed only by a
// second copy, which the .proto sends to another provider once the first
// has not answered within 100 ms. The provider of the first copy sees its
// context end, cancelled: the caller's context has a deadline a minute
// away (and so no per-attempt limit applies), and it stays live until
// the provider has reported.
func TestHedgeFirstSuccessWins(t *testing.T) {
	ps, cli := hedgeProviders(t, 3)
	svc := testbed.Try(e2ev1.NewHedgeService(cli)).Must(t)
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		id := scripted(t, testbed.Hang)
		resp, err := svc.Read(ctx, &e2ev1.Request{Id: id})
		checkHedged(t, ps, "Read, first copy hangs", id, resp, err, 2)
		s := awaitEnded(t, ps, id, 1)
		if s.servedBy[1] == s.servedBy[2] {
			t.Errorf("%s: both copies went to provider %d", id, s.servedBy[1])
		}
		if why := s.ended[1]; why != testbed.EndedCanceled {
			t.Errorf("%s: the first copy's context ended: %s, want %s", id, why, testbed.EndedCanceled)
		}
		if why, ok := s.ended[2]; ok {
			t.Errorf("%s: the winning copy's context ended (%s) before it answered", id, why)
		}
		if ctx.Err() != nil {
			t.Errorf("%s: the caller's context ended: %v", id, ctx.Err())
		}
		cancel()
	}
}

// A copy that fails with a code of retry_on (UNAVAILABLE) sends the next
// copy at once; any other failure ends the call. With the .proto's policy,
// the first copy fails and the second, on another provider, answers. With
// a delay of an hour (WithMethodHedging), the same call succeeds with two
// copies well inside its deadline of 30 s: the second copy cannot have
// waited for the delay. With that delay, a failure with INVALID_ARGUMENT,
// which retry_on does not list, or a business error, ends the call after
// its one copy, with its code.
func TestHedgeOnFailure(t *testing.T) {
	ps, cli := hedgeProviders(t, 3)
	proto := testbed.Try(e2ev1.NewHedgeService(cli)).Must(t)
	hour := testbed.Try(e2ev1.NewHedgeService(cli,
		dubboretry.WithMethodHedging("Read", dubboretry.Hedging{MaxAttempts: 2, Delay: time.Hour}))).Must(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, tc := range []struct {
		name string
		svc  e2ev1.HedgeService
	}{{"the .proto's 100 ms", proto}, {"WithMethodHedging, 1 h", hour}} {
		id := scripted(t, testbed.FailWith(unavailable))
		resp, err := tc.svc.Read(ctx, &e2ev1.Request{Id: id})
		s := checkHedged(t, ps, tc.name+": first copy UNAVAILABLE", id, resp, err, 2)
		if s.servedBy[1] == s.servedBy[2] {
			t.Errorf("%s: both copies went to provider %d", tc.name, s.servedBy[1])
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("the calls outlived their deadline: the copy after a failure waited for the delay")
	}

	for _, c := range []struct {
		name string
		req  *e2ev1.Request
		code triple_protocol.Code
	}{
		{"INVALID_ARGUMENT", &e2ev1.Request{Id: scripted(t, testbed.FailWith(invalidArgument))}, invalidArgument},
		{"a business error", &e2ev1.Request{Id: scripted(t, testbed.FailBusiness)}, triple_protocol.CodeBizError},
	} {
		_, err := hour.Read(ctx, c.req)
		if got := triple_protocol.CodeOf(err); got != c.code {
			t.Errorf("%s: the call failed with %v (%v), want %v", c.name, got, err, c.code)
		}
		if s := observe(t, ps, c.req.Id); s.total() != 1 {
			t.Errorf("%s: attempts by provider %v, want 1 in all", c.name, s.attempts)
		}
	}
}

// budgetRuns makes the budget of each run of TestHedgeBudget its own: a
// budget is shared by the process, by service and parameters, and a second
// run (-count) would find the first one's calls in its window.
var budgetRuns atomic.Int32

// Each copy after the first is a retry for the service's budget, and none
// is sent beyond it. The budget has a ratio of about 0.1 and no reserve
// (WithBudget(ratio, 0)): a copy is sent only if, with it, the copies
// beyond the first of the last 10 s number at most 0.1 x the calls.
//
//   - Call 1 (1 call): a first copy slow to answer gets no second copy,
//     which 1 > 0.1 x 1 would exceed; it answers itself.
//   - Calls 2 to 10 answer at once.
//   - Call 11: 1 <= 0.1 x 11: its first copy hangs, and the second answers.
//   - Call 12: that copy is counted, 2 > 0.1 x 12: a slow first copy gets
//     no second.
//   - Call 13: neither does a first copy that fails with UNAVAILABLE,
//     which would send the next copy at once: the call fails with it.
//
// The calls take well under the window of 10 s (2 s or so).
func TestHedgeBudget(t *testing.T) {
	ps, cli := hedgeProviders(t, 3)
	ratio := 0.1 + 0.0001*float64(budgetRuns.Add(1))
	svc := testbed.Try(e2ev1.NewHedgeService(cli, dubboretry.WithBudget(ratio, 0))).Must(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	read := func(steps ...testbed.Step) (string, *e2ev1.Response, error) {
		id := scripted(t, steps...)
		resp, err := svc.Read(ctx, &e2ev1.Request{Id: id})
		return id, resp, err
	}
	checkOne := func(name, id string, resp *e2ev1.Response, err error, code triple_protocol.Code) {
		t.Helper()
		if got := triple_protocol.CodeOf(err); err != nil && got != code || err == nil && code != 0 {
			t.Errorf("%s: the call ended with %v (%v), want %v", name, got, err, code)
		}
		if err == nil && resp.Attempts != 1 {
			t.Errorf("%s: answered by copy %d, want the first", name, resp.Attempts)
		}
		if s := observe(t, ps, id); s.total() != 1 {
			t.Errorf("%s: attempts by provider %v, want 1 in all: the budget has none to spare", name, s.attempts)
		}
	}

	id, resp, err := read(slow)
	checkOne("call 1, slow", id, resp, err, 0)
	for i := range 9 {
		_, resp, err := read(testbed.Answer)
		if err != nil || resp.Attempts != 1 {
			t.Fatalf("call %d, answered at once: %v, %v", i+2, resp, err)
		}
	}
	id, resp, err = read(testbed.Hang)
	checkHedged(t, ps, "call 11, first copy hangs", id, resp, err, 2)
	id, resp, err = read(slow)
	checkOne("call 12, slow", id, resp, err, 0)
	id, resp, err = read(testbed.FailWith(unavailable))
	checkOne("call 13, UNAVAILABLE", id, resp, err, unavailable)
}

// The per-attempt timeout limits each copy, and the caller's deadline the
// whole call. Both of Read's copies hang until their contexts end.
//
// With a per-attempt limit of 1 s (client.WithCallRequestTimeout, layer 4,
// or client.WithMethod's RequestTimeout for Read, layer 3) under a caller's
// deadline a minute away, the call fails with DEADLINE_EXCEEDED
// while the caller's context is live: each copy was cut by its limit, and
// each provider saw its context end. With WithMethodRetryOn("Read",
// UNAVAILABLE, DEADLINE_EXCEEDED), the call waits for the second copy's
// own limit after the first's.
//
// With a caller's deadline of 1 s and no per-attempt limit below it
// (none, or WithCallRequestTimeout of an hour), the call fails with
// DEADLINE_EXCEEDED once the caller's context has ended, both copies sent,
// and both providers see their contexts end.
//
// The limits are ten times the delay of 100 ms: a second copy goes out
// before the first is cut, however late a busy machine fires its timers.
func TestHedgeTimeouts(t *testing.T) {
	ps, cli := hedgeProviders(t, 3)
	proto := testbed.Try(e2ev1.NewHedgeService(cli)).Must(t)
	methodLimit := testbed.Try(e2ev1.NewHedgeService(cli,
		client.WithMethod(&global.MethodConfig{Name: "Read", RequestTimeout: "1s"}))).Must(t)
	deadlineRetried := testbed.Try(e2ev1.NewHedgeService(cli,
		dubboretry.WithMethodRetryOn("Read", unavailable, deadlineCode))).Must(t)
	limit := client.WithCallRequestTimeout(time.Second)

	for _, tc := range []struct {
		name     string
		svc      e2ev1.HedgeService
		opts     []client.CallOption
		deadline time.Duration // the caller's
		// callerEnds: the caller's deadline ends the call, rather than the
		// limits of the copies.
		callerEnds bool
	}{
		{"WithCallRequestTimeout(1s)", proto, []client.CallOption{limit}, time.Minute, false},
		{"WithMethod: RequestTimeout 1s", methodLimit, nil, time.Minute, false},
		{"WithCallRequestTimeout(1s), DEADLINE_EXCEEDED retried", deadlineRetried, []client.CallOption{limit}, time.Minute, false},
		{"the caller's deadline", proto, nil, time.Second, true},
		{"the caller's deadline, WithCallRequestTimeout(1h)", proto,
			[]client.CallOption{client.WithCallRequestTimeout(time.Hour)}, time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			id := scripted(t, testbed.Hang, testbed.Hang)
			_, err := tc.svc.Read(ctx, &e2ev1.Request{Id: id}, tc.opts...)
			// Whether the caller's deadline had passed, not ctx.Err(): the
			// context of a copy, which inherits the deadline, may end (and
			// the call with it) a moment before the caller's does.
			deadline, _ := ctx.Deadline()
			callerEnded := !time.Now().Before(deadline)
			if got := triple_protocol.CodeOf(err); got != deadlineCode {
				t.Errorf("the call failed with %v (%v), want %v", got, err, deadlineCode)
			}
			if callerEnded != tc.callerEnds {
				t.Errorf("the caller's context had ended when the call did: %v, want %v", callerEnded, tc.callerEnds)
			}
			s := awaitEnded(t, ps, id, 1, 2)
			if s.total() != 2 || !s.distinct() {
				t.Errorf("attempts by provider %v, want 2 in all, on distinct providers", s.attempts)
			}
			t.Logf("%v; the providers saw the contexts end: %v", err, s.ended)
		})
	}
}

// Layer 3 changes the hedging of a service (dubboretry.WithHedging,
// WithMethodHedging, WithoutHedging, WithoutMethodHedging), layer 4 can
// only lower the copies of a call (client.WithCallRetries(n): at most n+1),
// and a method that is not idempotent (Write) is never hedged, whoever
// asks. A hedged call's copies hang but the last, which answers: the call
// succeeds only if that many copies went out. A call that must not be
// hedged has a first attempt that answers after half a second, past any
// delay: one attempt, and its answer. Cases that the copies' limits end
// have a limit of 1 s (client.WithCallRequestTimeout), ten times the
// .proto's delay.
func TestHedgeLayers(t *testing.T) {
	ps, cli := hedgeProviders(t, 3)
	limit := client.WithCallRequestTimeout(time.Second)
	hang := testbed.Hang
	for _, tc := range []struct {
		name     string
		opts     []client.ReferenceOption
		write    bool
		steps    []testbed.Step
		call     []client.CallOption
		attempts uint32
		code     triple_protocol.Code // 0: the last copy answers
	}{
		{".proto: Read, 2 copies", nil, false, []testbed.Step{hang}, nil, 2, 0},
		{".proto: Read, no third copy", nil, false, []testbed.Step{hang, hang}, []client.CallOption{limit}, 2, deadlineCode},
		{".proto: Write", nil, true, []testbed.Step{slow}, nil, 1, 0},

		{"WithHedging(3 copies): Read", []client.ReferenceOption{dubboretry.WithHedging(hedge3)}, false, []testbed.Step{hang, hang}, nil, 3, 0},
		{"WithHedging(3 copies): Write", []client.ReferenceOption{dubboretry.WithHedging(hedge3)}, true, []testbed.Step{slow}, nil, 1, 0},
		{"WithMethodHedging(Write): Write", []client.ReferenceOption{dubboretry.WithMethodHedging("Write", hedge3)}, true, []testbed.Step{slow}, nil, 1, 0},
		{"WithMethodHedging(Write): Read keeps the .proto's", []client.ReferenceOption{dubboretry.WithMethodHedging("Write", hedge3)}, false, []testbed.Step{hang}, nil, 2, 0},
		{"WithoutHedging: Read", []client.ReferenceOption{dubboretry.WithoutHedging()}, false, []testbed.Step{slow}, nil, 1, 0},
		{"WithoutMethodHedging(Read)", []client.ReferenceOption{dubboretry.WithoutMethodHedging("Read")}, false, []testbed.Step{slow}, nil, 1, 0},
		{"WithHedging, WithoutMethodHedging(Read)", []client.ReferenceOption{dubboretry.WithHedging(hedge3), dubboretry.WithoutMethodHedging("Read")}, false, []testbed.Step{slow}, nil, 1, 0},
		{"WithoutHedging, WithMethodHedging(Read, 3 copies)", []client.ReferenceOption{dubboretry.WithoutHedging(), dubboretry.WithMethodHedging("Read", hedge3)}, false, []testbed.Step{hang, hang}, nil, 3, 0},
		{"WithMethodHedging(Read, 3 copies), WithoutHedging", []client.ReferenceOption{dubboretry.WithMethodHedging("Read", hedge3), dubboretry.WithoutHedging()}, false, []testbed.Step{hang, hang}, nil, 3, 0},

		{"client.WithMethod(Read, Retries 0): no copy", []client.ReferenceOption{
			client.WithMethod(&global.MethodConfig{Name: "Read", Retries: "0"})}, false, []testbed.Step{slow}, nil, 1, 0},
		{"client.WithRetries(0): no copy", []client.ReferenceOption{client.WithRetries(0)}, false, []testbed.Step{slow}, nil, 1, 0},
		{"client.WithRetries(0), WithHedging(3 copies)", []client.ReferenceOption{client.WithRetries(0), dubboretry.WithHedging(hedge3)},
			false, []testbed.Step{hang, hang}, nil, 3, 0},

		{".proto, WithCallRetries(0)", nil, false, []testbed.Step{slow}, []client.CallOption{client.WithCallRetries(0)}, 1, 0},
		{"WithHedging(3 copies), WithCallRetries(0)", []client.ReferenceOption{dubboretry.WithHedging(hedge3)}, false, []testbed.Step{slow}, []client.CallOption{client.WithCallRetries(0)}, 1, 0},
		{"WithHedging(3 copies), WithCallRetries(1)", []client.ReferenceOption{dubboretry.WithHedging(hedge3)}, false, []testbed.Step{hang, hang},
			[]client.CallOption{client.WithCallRetries(1), limit}, 2, deadlineCode},
		{".proto, WithCallRetries(5): no third copy", nil, false, []testbed.Step{hang, hang},
			[]client.CallOption{client.WithCallRetries(5), limit}, 2, deadlineCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := testbed.Try(e2ev1.NewHedgeService(cli, tc.opts...)).Must(t)
			method, name := svc.Read, "Read"
			if tc.write {
				method, name = svc.Write, "Write"
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			id := scripted(t, tc.steps...)
			resp, err := method(ctx, &e2ev1.Request{Id: id}, tc.call...)
			if tc.code == 0 {
				checkHedged(t, ps, name, id, resp, err, tc.attempts)
				return
			}
			if got := triple_protocol.CodeOf(err); got != tc.code {
				t.Errorf("%s: the call failed with %v (%v), want %v", name, got, err, tc.code)
			}
			if s := observe(t, ps, id); s.total() != tc.attempts || !s.distinct() {
				t.Errorf("%s: attempts by provider %v, want %d in all, on distinct providers", name, s.attempts, tc.attempts)
			}
		})
	}
}

// Streams are never hedged. No .proto service has both a stream and
// hedging for the whole service (a stream cannot take a .proto's hedging),
// so LayerService, which has the three kinds of stream, is given hedging
// for the whole service by the caller (dubboretry.WithHedging, layer 3),
// over three providers. Its unary methods are not idempotent, and no
// method takes it. Each stream works, and reaches one provider once: a
// stream sent through hedging would have its context cancelled when the
// call that opened it returns.
func TestHedgingLeavesStreams(t *testing.T) {
	ps, cli := hedgeProviders(t, 3)
	svc := testbed.Try(e2ev1.NewLayerService(cli, dubboretry.WithHedging(dubboretry.Hedging{MaxAttempts: 3, Delay: time.Millisecond}))).Must(t)
	for _, m := range dubboretry.PolicyOf(svc).Methods {
		if m.Hedging.Value.MaxAttempts != 0 {
			t.Errorf("LayerService.%s: hedging %+v, want none: it is not idempotent", m.Name, m.Hedging)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("Download", func(t *testing.T) {
		id := testbed.NewID(t.Name())
		stream := testbed.Try(svc.Download(ctx, &e2ev1.Request{Id: id, Fail: 4})).Must(t)
		var n uint32
		for stream.Recv() {
			n++
			if msg := stream.Msg(); msg.Attempts != n {
				t.Errorf("message %d = %v", n, msg)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 4 {
			t.Errorf("received %d messages, want 4", n)
		}
		if got := total(testbed.Counts(t, ps...), []string{id}); got != 1 {
			t.Errorf("the providers saw the stream opened %d times, want once", got)
		}
	})
	t.Run("Bidi", func(t *testing.T) {
		stream := testbed.Try(svc.Bidi(ctx)).Must(t)
		for n := uint32(1); n <= 3; n++ {
			if err := stream.Send(&e2ev1.Request{Id: testbed.NewID(t.Name())}); err != nil {
				t.Fatal(err)
			}
			resp, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if resp.Attempts != n {
				t.Errorf("response %d = %v", n, resp)
			}
		}
		if err := stream.CloseRequest(); err != nil {
			t.Fatal(err)
		}
		if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
			t.Errorf("Recv after the server ended = %v, want io.EOF", err)
		}
	})
	t.Run("Upload", func(t *testing.T) {
		stream := testbed.Try(svc.Upload(ctx)).Must(t)
		for range 5 {
			if err := stream.Send(&e2ev1.Request{Id: testbed.NewID(t.Name())}); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := stream.CloseAndRecv()
		if err != nil {
			t.Fatal(err)
		}
		if resp.Attempts != 5 {
			t.Errorf("the provider received %d requests, want 5", resp.Attempts)
		}
	})
}

// The effective policy reports each method's hedging and the layer that
// set it: Read's from (retry.v1.method), Write none; after WithoutHedging
// none, from the service option; a caller's hedging for Read, never for
// Write.
func TestHedgePolicyReported(t *testing.T) {
	cli := testbed.Client(t)
	proto := dubboretry.Hedging{MaxAttempts: 2, Delay: 100 * time.Millisecond}
	none := dubboretry.Hedging{}
	type want struct {
		read, write         dubboretry.Hedging
		readFrom, writeFrom dubboretry.Source
	}
	for _, tc := range []struct {
		name string
		opts []client.ReferenceOption
		want want
	}{
		{"the .proto", nil, want{proto, none, dubboretry.ProtoMethod, dubboretry.DubboDefault}},
		{"WithoutHedging", []client.ReferenceOption{dubboretry.WithoutHedging()},
			want{none, none, dubboretry.ServiceOption, dubboretry.DubboDefault}},
		{"WithHedging", []client.ReferenceOption{dubboretry.WithHedging(hedge3)},
			want{hedge3, none, dubboretry.ServiceOption, dubboretry.DubboDefault}},
		{"WithMethodHedging(Write)", []client.ReferenceOption{dubboretry.WithMethodHedging("Write", hedge3)},
			want{proto, none, dubboretry.ProtoMethod, dubboretry.DubboDefault}},
		{"WithoutHedging, WithMethodHedging(Read)", []client.ReferenceOption{dubboretry.WithoutHedging(), dubboretry.WithMethodHedging("Read", hedge3)},
			want{hedge3, none, dubboretry.MethodOption, dubboretry.DubboDefault}},
		{"WithoutMethodHedging(Read)", []client.ReferenceOption{dubboretry.WithoutMethodHedging("Read")},
			want{none, none, dubboretry.MethodOption, dubboretry.DubboDefault}},
	} {
		svc := testbed.Try(e2ev1.NewHedgeService(cli, tc.opts...)).Must(t)
		p := dubboretry.PolicyOf(svc)
		if p == nil || p != svc.(*e2ev1.HedgeServiceImpl).RetryPolicy() {
			t.Fatalf("%s: PolicyOf = %p, RetryPolicy = %p; want the same policy", tc.name, p, svc.(*e2ev1.HedgeServiceImpl).RetryPolicy())
		}
		read, write := p.Method("Read"), p.Method("Write")
		if read == nil || write == nil {
			t.Fatalf("%s: the policy has no Read or no Write:\n%v", tc.name, p)
		}
		got := want{read.Hedging.Value, write.Hedging.Value, read.Hedging.From, write.Hedging.From}
		if got != tc.want {
			t.Errorf("%s: hedging of Read, Write = %+v, want %+v\n%v", tc.name, got, tc.want, p)
		}
	}
}
