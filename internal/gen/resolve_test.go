package gen

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

// Option fields, for the tables below.
var (
	hedge20     = &retryv1.Hedging{MaxAttempts: 2, Delay: ms(20)}
	hedge95     = &retryv1.Hedging{MaxAttempts: 3, DelayPercentile: 95}
	unavailable = []retryv1.Code{retryv1.Code_CODE_UNAVAILABLE}
	aborted     = []retryv1.Code{retryv1.Code_CODE_ABORTED, retryv1.Code_CODE_RESOURCE_EXHAUSTED}
	internal    = []retryv1.Code{retryv1.Code_CODE_INTERNAL}
)

func ms(n int64) *durationpb.Duration { return durationpb.New(time.Duration(n) * time.Millisecond) }

func backoffOf(initial, max int64, multiplier float64) *retryv1.Backoff {
	b := &retryv1.Backoff{Initial: ms(initial), Multiplier: multiplier}
	if max > 0 {
		b.Max = ms(max)
	}
	return b
}

// levelOption is one level's option, as the tables write it.
type levelOption struct {
	retries        *uint32
	idempotentOnly *bool
	timeout        *durationpb.Duration
	retryOn        []retryv1.Code
	backoff        *retryv1.Backoff
	budget         *retryv1.Budget
	hedging        *retryv1.Hedging
}

func (o *levelOption) method() *retryv1.MethodRetry {
	if o == nil {
		return nil
	}
	return &retryv1.MethodRetry{Retries: o.retries, Timeout: o.timeout, RetryOn: o.retryOn, Backoff: o.backoff, Hedging: o.hedging}
}

func (o *levelOption) service() *retryv1.ServiceRetry {
	if o == nil {
		return nil
	}
	return &retryv1.ServiceRetry{Retries: o.retries, IdempotentOnly: o.idempotentOnly, Timeout: o.timeout,
		RetryOn: o.retryOn, Backoff: o.backoff, Budget: o.budget, Hedging: o.hedging}
}

func (o *levelOption) file() *retryv1.FileRetry {
	if o == nil {
		return nil
	}
	return &retryv1.FileRetry{Retries: o.retries, IdempotentOnly: o.idempotentOnly, Timeout: o.timeout,
		RetryOn: o.retryOn, Backoff: o.backoff, Budget: o.budget, Hedging: o.hedging}
}

// retriesOpt is an option with n retries, and idempotent_only set to true
// if idempotentOnly is.
func retriesOpt(n uint32, idempotentOnly bool) *levelOption {
	o := &levelOption{retries: proto.Uint32(n)}
	if idempotentOnly {
		o.idempotentOnly = proto.Bool(true)
	}
	return o
}

func timeoutOpt(n int64) *levelOption { return &levelOption{timeout: ms(n)} }

func TestResolve(t *testing.T) {
	var (
		unary      = Method{}
		idempotent = Method{Idempotent: true}
		streaming  = Method{Streaming: true}
	)
	retriesFrom := func(src Source, n uint32) Default { return Default{Source: src, Retries: n} }
	timeoutFrom := func(src Source, n int64) Setting[time.Duration] {
		return Setting[time.Duration]{src, time.Duration(n) * time.Millisecond}
	}
	tests := []struct {
		name                  string
		m                     Method
		method, service, file *levelOption
		want                  Policy
	}{
		{name: "no options", m: unary},
		{name: "options set with no field", m: unary, method: &levelOption{}, service: &levelOption{idempotentOnly: proto.Bool(true)}, file: &levelOption{}},

		// idempotent_only, a field of its own: the service's, else the
		// file's. It keeps the retries that come from the service or the
		// file from a method that is not idempotent; a method's own stand.
		{name: "service idempotent_only, idempotent method", m: idempotent, service: retriesOpt(2, true),
			want: Policy{Retries: retriesFrom(ServiceOption, 2)}},
		{name: "service idempotent_only, other method", m: unary, service: retriesOpt(2, true), file: retriesOpt(1, false),
			want: Policy{Retries: Default{Source: ServiceOption, IdempotentOnly: ServiceOption, NotIdempotent: true, Declared: 2}}},
		{name: "service idempotent_only does not reach a method option", m: unary,
			method: retriesOpt(4, false), service: retriesOpt(2, true),
			want: Policy{Retries: Default{Source: MethodOption, Retries: 4, IdempotentOnly: ServiceOption}}},
		{name: "file idempotent_only, idempotent method", m: idempotent, file: retriesOpt(1, true),
			want: Policy{Retries: retriesFrom(FileOption, 1)}},
		{name: "file idempotent_only, other method", m: unary, file: retriesOpt(1, true),
			want: Policy{Retries: Default{Source: FileOption, IdempotentOnly: FileOption, NotIdempotent: true, Declared: 1}}},
		{name: "file idempotent_only reaches the service's retries", m: unary,
			service: retriesOpt(2, false), file: retriesOpt(1, true),
			want: Policy{Retries: Default{Source: ServiceOption, IdempotentOnly: FileOption, NotIdempotent: true, Declared: 2}}},
		{name: "service idempotent_only reaches the file's retries", m: unary,
			service: &levelOption{idempotentOnly: proto.Bool(true)}, file: retriesOpt(2, false),
			want: Policy{Retries: Default{Source: FileOption, IdempotentOnly: ServiceOption, NotIdempotent: true, Declared: 2}}},
		{name: "a service's idempotent_only: false beats the file's true", m: unary,
			service: &levelOption{idempotentOnly: proto.Bool(false)}, file: retriesOpt(2, true),
			want: Policy{Retries: retriesFrom(FileOption, 2)}},
		{name: "idempotent_only without retries anywhere says nothing", m: unary,
			service: &levelOption{idempotentOnly: proto.Bool(true)}},
		{name: "idempotent_only governs retries only: a non-idempotent method keeps the timeout", m: unary,
			service: &levelOption{retries: proto.Uint32(2), idempotentOnly: proto.Bool(true), timeout: ms(300)},
			want: Policy{Retries: Default{Source: ServiceOption, IdempotentOnly: ServiceOption, NotIdempotent: true, Declared: 2},
				Timeout: timeoutFrom(ServiceOption, 300)}},
		{name: "idempotent_only governs retries only: a file's timeout, with the file's idempotent_only", m: unary,
			file: &levelOption{retries: proto.Uint32(1), idempotentOnly: proto.Bool(true), timeout: ms(200), retryOn: unavailable},
			want: Policy{Retries: Default{Source: FileOption, IdempotentOnly: FileOption, NotIdempotent: true, Declared: 1},
				Timeout: timeoutFrom(FileOption, 200), RetryOn: Setting[[]retryv1.Code]{FileOption, unavailable}}},

		// Hedging: idempotent unary methods only; retries or hedging, the
		// more specific option's, and both from one option: hedging where it
		// can go.
		{name: "a method's hedging", m: idempotent, method: &levelOption{hedging: hedge20},
			want: Policy{Hedging: Setting[Hedging]{MethodOption, Hedging{2, 20 * time.Millisecond, 0}}}},
		{name: "a service's hedging and retries: hedging for an idempotent method", m: idempotent,
			service: &levelOption{retries: proto.Uint32(2), hedging: hedge95},
			want:    Policy{Hedging: Setting[Hedging]{ServiceOption, Hedging{3, 0, 95}}, RetriesHedged: ServiceOption}},
		{name: "a service's hedging and retries: retries for another method", m: unary,
			service: &levelOption{retries: proto.Uint32(2), hedging: hedge95},
			want:    Policy{Retries: retriesFrom(ServiceOption, 2), HedgingSkipped: ServiceOption}},
		{name: "a method's retries beat a service's hedging", m: idempotent,
			method: retriesOpt(1, false), service: &levelOption{hedging: hedge95},
			want: Policy{Retries: retriesFrom(MethodOption, 1)}},
		{name: "a service's hedging beats a file's retries", m: idempotent,
			service: &levelOption{hedging: hedge95}, file: retriesOpt(3, false),
			want: Policy{Hedging: Setting[Hedging]{ServiceOption, Hedging{3, 0, 95}}, RetriesHedged: FileOption}},
		{name: "a service's retries beat a file's hedging", m: idempotent,
			service: retriesOpt(2, false), file: &levelOption{hedging: hedge20},
			want: Policy{Retries: retriesFrom(ServiceOption, 2)}},
		{name: "a file's hedging skips a method that is not idempotent", m: unary,
			file: &levelOption{hedging: hedge20}, want: Policy{HedgingSkipped: FileOption}},
		{name: "streams are not hedged", m: streaming, service: &levelOption{hedging: hedge20}},

		// Fields from different levels.
		{name: "a method that sets only a timeout keeps the service's retries", m: unary,
			method: timeoutOpt(100), service: retriesOpt(2, false),
			want: Policy{Retries: retriesFrom(ServiceOption, 2), Timeout: timeoutFrom(MethodOption, 100)}},
		{name: "retry_on: an empty list has no opinion", m: unary,
			method: &levelOption{retryOn: []retryv1.Code{}}, service: &levelOption{retryOn: aborted},
			want: Policy{RetryOn: Setting[[]retryv1.Code]{ServiceOption, aborted}}},
		{name: "backoff: the defaults of max and multiplier", m: unary,
			service: &levelOption{backoff: backoffOf(20, 0, 0)}, file: &levelOption{backoff: backoffOf(30, 40, 1)},
			want: Policy{Backoff: Setting[Backoff]{ServiceOption, Backoff{20 * time.Millisecond, 2 * time.Second, 2}}}},
		{name: "a mix: each field from the first level that sets it", m: idempotent,
			method:  &levelOption{backoff: backoffOf(10, 0, 0)},
			service: &levelOption{retries: proto.Uint32(2), idempotentOnly: proto.Bool(true), retryOn: aborted},
			file:    &levelOption{retries: proto.Uint32(1), timeout: ms(250), retryOn: internal},
			want: Policy{
				Retries: retriesFrom(ServiceOption, 2),
				Timeout: timeoutFrom(FileOption, 250),
				RetryOn: Setting[[]retryv1.Code]{ServiceOption, aborted},
				Backoff: Setting[Backoff]{MethodOption, Backoff{10 * time.Millisecond, time.Second, 2}},
			}},

		// Streaming methods.
		{name: "streaming takes no service default", m: streaming,
			service: &levelOption{retries: proto.Uint32(2), timeout: ms(1), retryOn: aborted, backoff: backoffOf(1, 0, 0)}},
		{name: "streaming takes no file default", m: streaming,
			file: &levelOption{retries: proto.Uint32(1), timeout: ms(1), retryOn: aborted, backoff: backoffOf(1, 0, 0)}},
		{name: "streaming ignores a method option (an error, reported before)", m: streaming,
			method: &levelOption{retries: proto.Uint32(3), timeout: ms(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(tt.m, Options{Method: tt.method.method(), Service: tt.service.service(), File: tt.file.file()})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolveEachField checks, for every field of a policy, that the first
// level that sets it supplies it, whatever the levels below set, and that a
// level whose option leaves the field unset has no opinion on it.
func TestResolveEachField(t *testing.T) {
	type field struct {
		name string
		// set sets the field of o to the value of level i (0, 1, 2: method,
		// service, file), and want puts that value, from src, in a Policy.
		set  func(o *levelOption, i int)
		want func(p *Policy, src Source, i int)
	}
	fields := []field{
		{"retries",
			func(o *levelOption, i int) { o.retries = proto.Uint32(uint32(3 - i)) },
			func(p *Policy, src Source, i int) { p.Retries = Default{Source: src, Retries: uint32(3 - i)} }},
		{"explicit 0 retries",
			func(o *levelOption, i int) { o.retries = proto.Uint32(uint32(2 * i)) },
			func(p *Policy, src Source, i int) { p.Retries = Default{Source: src, Retries: uint32(2 * i)} }},
		{"timeout",
			func(o *levelOption, i int) { o.timeout = ms(int64(100 * (i + 1))) },
			func(p *Policy, src Source, i int) {
				p.Timeout = Setting[time.Duration]{src, time.Duration(100*(i+1)) * time.Millisecond}
			}},
		{"retry_on",
			func(o *levelOption, i int) { o.retryOn = [][]retryv1.Code{unavailable, aborted, internal}[i] },
			func(p *Policy, src Source, i int) {
				p.RetryOn = Setting[[]retryv1.Code]{src, [][]retryv1.Code{unavailable, aborted, internal}[i]}
			}},
		{"hedging",
			func(o *levelOption, i int) {
				o.hedging = &retryv1.Hedging{MaxAttempts: uint32(2 + i), Delay: ms(int64(10 * (i + 1)))}
			},
			func(p *Policy, src Source, i int) {
				p.Hedging = Setting[Hedging]{src, Hedging{uint32(2 + i), time.Duration(10*(i+1)) * time.Millisecond, 0}}
			}},
		{"backoff",
			func(o *levelOption, i int) { o.backoff = backoffOf(int64(10*(i+1)), 1000, float64(i+1)) },
			func(p *Policy, src Source, i int) {
				p.Backoff = Setting[Backoff]{src, Backoff{time.Duration(10*(i+1)) * time.Millisecond, time.Second, float64(i + 1)}}
			}},
	}
	sources := []Source{MethodOption, ServiceOption, FileOption}
	for _, f := range fields {
		for supplier := range 3 {
			// The levels above the supplier have an option that leaves the
			// field unset; the supplier and the levels below it set it.
			levels := make([]*levelOption, 3)
			for i := range levels {
				levels[i] = &levelOption{}
				if i >= supplier {
					f.set(levels[i], i)
				}
			}
			var want Policy
			f.want(&want, sources[supplier], supplier)
			got := Resolve(Method{Idempotent: true}, Options{Method: levels[0].method(), Service: levels[1].service(), File: levels[2].file()})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s set from the %v level down (-want +got):\n%s", f.name, sources[supplier], diff)
			}
		}
	}
}

func TestResolveBudget(t *testing.T) {
	tests := []struct {
		name          string
		service, file *levelOption
		want          Setting[Budget]
	}{
		{name: "none"},
		{name: "options without a budget", service: retriesOpt(1, false), file: timeoutOpt(1)},
		{name: "service", service: &levelOption{budget: &retryv1.Budget{Ratio: 0.1, MinRetriesPerSecond: proto.Uint32(3)}},
			file: &levelOption{budget: &retryv1.Budget{Ratio: 0.5}},
			want: Setting[Budget]{ServiceOption, Budget{0.1, 3}}},
		{name: "file, with the default of min_retries_per_second", file: &levelOption{budget: &retryv1.Budget{Ratio: 0.5}},
			want: Setting[Budget]{FileOption, Budget{0.5, 10}}},
		{name: "min_retries_per_second: 0 is none", service: &levelOption{budget: &retryv1.Budget{Ratio: 0.5, MinRetriesPerSecond: proto.Uint32(0)}},
			want: Setting[Budget]{ServiceOption, Budget{0.5, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ResolveBudget(Options{Service: tt.service.service(), File: tt.file.file()})); diff != "" {
				t.Errorf("ResolveBudget() (-want +got):\n%s", diff)
			}
		})
	}
}

// The default max of a backoff, 100 x initial, saturates rather than
// wrapping around.
func TestBackoffMaxSaturates(t *testing.T) {
	b := backoff(&retryv1.Backoff{Initial: durationpb.New(time.Duration(math.MaxInt64 / 50))})
	if b.Max != time.Duration(math.MaxInt64) {
		t.Errorf("max = %v, want the largest duration", b.Max)
	}
}
