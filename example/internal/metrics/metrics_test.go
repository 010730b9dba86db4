package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"go.opentelemetry.io/otel/attribute"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

const (
	ok              = 0
	invalidArgument = triple_protocol.CodeInvalidArgument
	unavailable     = triple_protocol.CodeUnavailable
)

// served is what the test process's server saw of calls: their attempts,
// and the attempts by the code they were answered with.
type served struct {
	calls, attempts int
	byCode          map[int]int
	short           int // calls that made fewer attempts than 1 + retries
}

// serve returns what the server saw of reqs, each failing its first Fail
// attempts with the code its id names (testbed.ByRequest), for a method
// with retries.
func serve(reqs []*e2ev1.Request, codes []triple_protocol.Code, retries int) served {
	s := served{calls: len(reqs), byCode: map[int]int{}}
	for i, req := range reqs {
		n := int(seen.Attempts(req.Id))
		s.attempts += n
		failed := min(n, int(req.Fail))
		s.byCode[int(codes[i])] += failed
		s.byCode[ok] += n - failed
		if n < 1+retries {
			s.short++
		}
	}
	return s
}

// outage makes calls calls of method, which has 3 retries, each failing
// every attempt with UNAVAILABLE, fails the test unless every call ends
// with UNAVAILABLE, and returns what the server saw.
func outage(t *testing.T, method unary, calls int) served {
	t.Helper()
	reqs, codes := unavailableRequests(t, calls, 1000)
	for i, err := range callAll(method, reqs) {
		if triple_protocol.CodeOf(err) != unavailable {
			t.Fatalf("call %d: %v, want unavailable", i, err)
		}
	}
	return serve(reqs, codes, 3)
}

// check compares what rd read of method with what the server saw.
func (s served) check(t *testing.T, rd reading, attrs []attribute.KeyValue) {
	t.Helper()
	if got := rd.counter(t, attemptStarted, attrs...); got != int64(s.attempts) {
		t.Errorf("%s: %d, want the %d attempts the server saw", attemptStarted, got, s.attempts)
	}
	if n, _, _ := rd.histogram(t, attemptDuration, attrs...); n != uint64(s.attempts) {
		t.Errorf("%s: %d attempts recorded, want %d", attemptDuration, n, s.attempts)
	}
	for c := range 18 {
		if n, _, _ := rd.histogram(t, attemptDuration, code(attrs, c)...); n != uint64(s.byCode[c]) {
			t.Errorf("%s with code %d: %d attempts, want the server's %d", attemptDuration, c, n, s.byCode[c])
		}
	}
	if n, _, _ := rd.histogram(t, callDuration, attrs...); n != uint64(s.calls) {
		t.Errorf("%s: %d calls, want %d", callDuration, n, s.calls)
	}
	if n, sum, _ := rd.histogram(t, callRetries, attrs...); n != uint64(s.calls) || int(sum) != s.attempts-s.calls {
		t.Errorf("%s: %d calls making %v retries, want %d making %d (attempts - calls)", callRetries, n, sum, s.calls, s.attempts-s.calls)
	}
}

// Each attempt is counted, and timed with the code it was answered with:
// RetryOnService.Declared (3 retries of UNAVAILABLE) called once to
// succeed, once to fail with INVALID_ARGUMENT (not retried), once to fail
// twice with UNAVAILABLE and succeed, once to fail every attempt with
// UNAVAILABLE: 9 attempts, of which 2 OK, 1 INVALID_ARGUMENT and 6
// UNAVAILABLE, and 5 retries. Every count is the server's. The units are
// the instruments'.
func TestAttemptsAndCodes(t *testing.T) {
	r, withMeter := meter(t)
	svc := testbed.Try(e2ev1.NewRetryOnService(testbed.Client(t), withMeter)).Must(t)
	codes := []triple_protocol.Code{unavailable, invalidArgument, unavailable, unavailable}
	reqs := []*e2ev1.Request{
		request(t, codes[0], 0), request(t, codes[1], 1000), request(t, codes[2], 2), request(t, codes[3], 1000),
	}
	for i, err := range callAll(svc.Declared, reqs) {
		if want := []bool{true, false, true, false}[i]; (err == nil) != want {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	s := serve(reqs, codes, 3)
	if s.attempts != 9 || s.byCode[ok] != 2 || s.byCode[int(invalidArgument)] != 1 || s.byCode[int(unavailable)] != 6 {
		t.Fatalf("the server saw %+v, want 9 attempts: 2 OK, 1 INVALID_ARGUMENT, 6 UNAVAILABLE", s)
	}
	rd := collect(t, r)
	attrs := of("e2e.v1.RetryOnService", "Declared")
	s.check(t, rd, attrs)
	if n, sum, _ := rd.histogram(t, retryDelay, attrs...); n != 4 || sum != 0 {
		t.Errorf("%s: %d calls waiting %vs, want 4 waiting none (no backoff)", retryDelay, n, sum)
	}
	if n := rd.counter(t, budgetExhausted); n != 0 {
		t.Errorf("%s: %d without a budget", budgetExhausted, n)
	}
	for name, want := range map[string]string{
		attemptStarted: "{attempt}", attemptDuration: "s", callDuration: "s",
		callRetries: "{retry}", retryDelay: "s",
	} {
		if got := rd.unit(name); got != want {
			t.Errorf("%s: unit %q, want %q", name, got, want)
		}
	}
}

// The retry delay is the backoff a call waited: FullPolicyService.Declared
// backs off by [0, 1ms), [0, 2ms), [0, 4ms) before its 3 retries. (Without
// its budget, whose gate closes once five retries in a row have failed.)
func TestRetryDelay(t *testing.T) {
	r, withMeter := meter(t)
	svc := testbed.Try(e2ev1.NewFullPolicyService(testbed.Client(t), withMeter, dubboretry.WithoutBudget())).Must(t)
	const calls = 5
	reqs, codes := unavailableRequests(t, calls, 3)
	for _, err := range callAll(svc.Declared, reqs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	rd := collect(t, r)
	attrs := of("e2e.v1.FullPolicyService", "Declared")
	serve(reqs, codes, 3).check(t, rd, attrs)
	n, sum, _ := rd.histogram(t, retryDelay, attrs...)
	if ceiling := (calls * 7 * time.Millisecond).Seconds(); n != calls || sum <= 0 || sum > ceiling {
		t.Errorf("%s: %d calls waiting %vs, want %d waiting above 0 and at most %vs", retryDelay, n, sum, calls, ceiling)
	}
}

// An outage, where every attempt fails with UNAVAILABLE: BudgetService's
// budget (ratio 0.1 and 10 a second) refuses most retries, once its gate
// has seen a few fail. A call whose retry the budget refuses ends then:
// the refusals are the calls that made fewer than their 4 attempts.
func TestOutageBudget(t *testing.T) {
	r, withMeter := meter(t)
	svc := testbed.Try(e2ev1.NewBudgetService(testbed.Client(t), withMeter)).Must(t)
	const calls = 300
	s := outage(t, svc.Declared, calls)
	rd := collect(t, r)
	attrs := of("e2e.v1.BudgetService", "Declared")
	s.check(t, rd, attrs)
	if got := rd.counter(t, budgetExhausted, attrs...); got != int64(s.short) || got == 0 {
		t.Errorf("%s: %d, want the %d calls that made fewer than 4 attempts, and some", budgetExhausted, got, s.short)
	}
	if got := rd.unit(budgetExhausted); got != "{retry}" {
		t.Errorf("%s: unit %q, want {retry}", budgetExhausted, got)
	}
	t.Logf("%d calls, %d attempts, %d retries refused", calls, s.attempts, s.short)
}

// A hedged call (HedgeService.Read, two copies) counts each copy as an
// attempt, and the second as a retry: two providers, one failing every
// attempt with UNAVAILABLE, which sends the second copy at once. (The
// delay is long, so that no copy is sent for want of an answer.)
func TestHedgedCalls(t *testing.T) {
	providers := testbed.StartProviders(t, []string{"HedgeService"}, "fail", "ok")
	cli := testbed.Try(client.NewClient(client.WithClientURL(testbed.URL(providers)))).Must(t)
	r, withMeter := meter(t)
	svc := testbed.Try(e2ev1.NewHedgeService(cli, withMeter,
		dubboretry.WithMethodHedging("Read", dubboretry.Hedging{MaxAttempts: 2, Delay: time.Minute}))).Must(t)
	const calls = 60
	reqs := make([]*e2ev1.Request, calls)
	for i := range reqs {
		reqs[i] = &e2ev1.Request{Id: testbed.NewID(t.Name())}
	}
	for _, err := range callAll(svc.Read, reqs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	counts := testbed.Counts(t, providers...)
	s := served{calls: calls, byCode: map[int]int{}}
	for _, req := range reqs {
		s.byCode[int(unavailable)] += int(counts[0][req.Id])
		s.byCode[ok] += int(counts[1][req.Id])
	}
	s.attempts = s.byCode[ok] + s.byCode[int(unavailable)]
	if s.byCode[ok] != calls || s.byCode[int(unavailable)] == 0 {
		t.Fatalf("the providers saw %+v, want %d successes and some failures", s, calls)
	}
	rd := collect(t, r)
	attrs := of("e2e.v1.HedgeService", "Read")
	s.check(t, rd, attrs)
	if n, sum, _ := rd.histogram(t, retryDelay, attrs...); n != calls || sum != 0 {
		t.Errorf("%s: %d calls waiting %vs, want %d waiting none (hedged calls do not back off)", retryDelay, n, sum, calls)
	}
}

// The global MeterProvider, when a service is given none, even when it is
// set after the service was created: see TestPrometheusOutage. A service
// given a provider records with it alone.
func TestProviderOfItsService(t *testing.T) {
	r1, with1 := meter(t)
	r2, with2 := meter(t)
	cli := testbed.Client(t)
	one := testbed.Try(e2ev1.NewRetryOnService(cli, with1)).Must(t)
	two := testbed.Try(e2ev1.NewLayerService(cli, with2)).Must(t)
	for _, call := range []unary{one.Declared, two.Declared, two.Declared} {
		if _, err := call(context.Background(), request(t, unavailable, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		rd      reading
		service string
		want    int64
	}{
		{collect(t, r1), "e2e.v1.RetryOnService", 1},
		{collect(t, r1), "e2e.v1.LayerService", 0},
		{collect(t, r2), "e2e.v1.LayerService", 2},
		{collect(t, r2), "e2e.v1.RetryOnService", 0},
	} {
		if got := tc.rd.counter(t, attemptStarted, attribute.String("rpc.service", tc.service)); got != tc.want {
			t.Errorf("%s: %d attempts, want %d", tc.service, got, tc.want)
		}
	}
	if !strings.Contains(collect(t, r1).rm.ScopeMetrics[0].Scope.Name, "dubboretry") {
		t.Errorf("scope %q", collect(t, r1).rm.ScopeMetrics[0].Scope.Name)
	}
}

// A reference that the plugin did not generate (cli.DialWithInfo, as
// protoc-gen-go-triple's code makes it) given an option of dubboretry runs
// on its cluster, and is recorded under its interface's name: here with
// dubbo-go's 2 retries of every failure.
func TestPlainReference(t *testing.T) {
	r, withMeter := meter(t)
	cli := testbed.Client(t)
	conn := testbed.Try(cli.DialWithInfo(e2ev1.PlainServiceName, &e2ev1.PlainService_ClientInfo, withMeter)).Must(t)
	reqs := []*e2ev1.Request{request(t, unavailable, 1), request(t, invalidArgument, 1000)}
	codes := []triple_protocol.Code{unavailable, invalidArgument}
	for i, req := range reqs {
		err := conn.CallUnary(context.Background(), []any{req}, new(e2ev1.Response), "Declared")
		if (err == nil) != (i == 0) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	s := serve(reqs, codes, 2)
	if s.attempts != 5 {
		t.Fatalf("the server saw %d attempts, want 2 and 3", s.attempts)
	}
	s.check(t, collect(t, r), of(e2ev1.PlainServiceName, "Declared"))
}
