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
	idempotentOnly bool
	timeout        *durationpb.Duration
	retryOn        []retryv1.Code
	backoff        *retryv1.Backoff
	budget         *retryv1.Budget
}

func (o *levelOption) method() *retryv1.MethodRetry {
	if o == nil {
		return nil
	}
	return &retryv1.MethodRetry{Retries: o.retries, Timeout: o.timeout, RetryOn: o.retryOn, Backoff: o.backoff}
}

func (o *levelOption) service() *retryv1.ServiceRetry {
	if o == nil {
		return nil
	}
	return &retryv1.ServiceRetry{Retries: o.retries, IdempotentOnly: o.idempotentOnly, Timeout: o.timeout,
		RetryOn: o.retryOn, Backoff: o.backoff, Budget: o.budget}
}

func (o *levelOption) file() *retryv1.FileRetry {
	if o == nil {
		return nil
	}
	return &retryv1.FileRetry{Retries: o.retries, IdempotentOnly: o.idempotentOnly, Timeout: o.timeout,
		RetryOn: o.retryOn, Backoff: o.backoff, Budget: o.budget}
}

func retriesOpt(n uint32, idempotentOnly bool) *levelOption {
	return &levelOption{retries: proto.Uint32(n), idempotentOnly: idempotentOnly}
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
		{name: "options set with no field", m: unary, method: &levelOption{}, service: &levelOption{idempotentOnly: true}, file: &levelOption{}},

		// idempotent_only.
		{name: "service idempotent_only, idempotent method", m: idempotent, service: retriesOpt(2, true),
			want: Policy{Retries: retriesFrom(ServiceOption, 2)}},
		{name: "service idempotent_only, other method", m: unary, service: retriesOpt(2, true), file: retriesOpt(1, false),
			want: Policy{Retries: Default{Source: ServiceOption, NotIdempotent: true, Declared: 2}}},
		{name: "service idempotent_only does not reach a method option", m: unary,
			method: retriesOpt(4, false), service: retriesOpt(2, true),
			want: Policy{Retries: retriesFrom(MethodOption, 4)}},
		{name: "file idempotent_only, idempotent method", m: idempotent, file: retriesOpt(1, true),
			want: Policy{Retries: retriesFrom(FileOption, 1)}},
		{name: "file idempotent_only, other method", m: unary, file: retriesOpt(1, true),
			want: Policy{Retries: Default{Source: FileOption, NotIdempotent: true, Declared: 1}}},
		{name: "file idempotent_only does not reach the service's value", m: unary,
			service: retriesOpt(2, false), file: retriesOpt(1, true),
			want: Policy{Retries: retriesFrom(ServiceOption, 2)}},
		{name: "service idempotent_only without retries: the file supplies, without its own flag", m: unary,
			service: &levelOption{idempotentOnly: true}, file: retriesOpt(1, false),
			want: Policy{Retries: retriesFrom(FileOption, 1)}},
		{name: "idempotent_only governs retries only: a non-idempotent method keeps the timeout", m: unary,
			service: &levelOption{retries: proto.Uint32(2), idempotentOnly: true, timeout: ms(300)},
			want:    Policy{Retries: Default{Source: ServiceOption, NotIdempotent: true, Declared: 2}, Timeout: timeoutFrom(ServiceOption, 300)}},
		{name: "idempotent_only governs retries only: a file's timeout, with the file's idempotent_only", m: unary,
			file: &levelOption{retries: proto.Uint32(1), idempotentOnly: true, timeout: ms(200), retryOn: unavailable},
			want: Policy{Retries: Default{Source: FileOption, NotIdempotent: true, Declared: 1}, Timeout: timeoutFrom(FileOption, 200),
				RetryOn: Setting[[]retryv1.Code]{FileOption, unavailable}}},

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
			service: &levelOption{retries: proto.Uint32(2), idempotentOnly: true, retryOn: aborted},
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
			got := Resolve(Method{}, Options{Method: levels[0].method(), Service: levels[1].service(), File: levels[2].file()})
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
		{name: "service", service: &levelOption{budget: &retryv1.Budget{Ratio: 0.1, MinRetriesPerSecond: 3}},
			file: &levelOption{budget: &retryv1.Budget{Ratio: 0.5}},
			want: Setting[Budget]{ServiceOption, Budget{0.1, 3}}},
		{name: "file, with the default of min_retries_per_second", file: &levelOption{budget: &retryv1.Budget{Ratio: 0.5}},
			want: Setting[Budget]{FileOption, Budget{0.5, 10}}},
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
