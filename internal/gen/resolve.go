package gen

import (
	"math"
	"time"

	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

// Source names the option that supplied a field of a method's policy.
type Source int

const (
	// NoDefault: nothing in the .proto sets the field, so the generated
	// code leaves it to dubbo-go and the caller, as protoc-gen-go-triple's
	// does.
	NoDefault Source = iota
	// MethodOption: the method's own (retry.v1.method).
	MethodOption
	// ServiceOption: the (retry.v1.service) of the method's service.
	ServiceOption
	// FileOption: the (retry.v1.file) of the method's file.
	FileOption
)

// Options are the retry options that can reach one method: its own, its
// service's and its file's. Any of them may be nil.
type Options struct {
	Method  *retryv1.MethodRetry
	Service *retryv1.ServiceRetry
	File    *retryv1.FileRetry
}

// Method says what resolution needs to know of a method besides its
// options.
type Method struct {
	// Streaming is true for client, server and bidirectional streams.
	Streaming bool
	// Idempotent is true when the method's idempotency_level is IDEMPOTENT
	// or NO_SIDE_EFFECTS.
	Idempotent bool
}

// Policy is the .proto retry policy of one method. Each field is resolved
// on its own, from the first of the method's, its service's and its file's
// options that sets it.
type Policy struct {
	Retries Default
	Timeout Setting[time.Duration]
	RetryOn Setting[[]retryv1.Code]
	Backoff Setting[Backoff]
	// Hedging is the method's hedging, if an option gives it one; its
	// retries are then none, whatever a less specific option says.
	Hedging Setting[Hedging]
	// HedgingSkipped is the option whose hedging does not reach the method,
	// which is not idempotent (a service's or file's hedging goes to the
	// idempotent methods only), or NoDefault.
	HedgingSkipped Source
	// RetriesHedged is the option whose retries do not reach the method,
	// which an option at least as specific hedges, or NoDefault.
	RetriesHedged Source
}

// empty reports whether p declares nothing.
func (p Policy) empty() bool {
	return p.Retries.Source == NoDefault && p.Timeout.Source == NoDefault &&
		p.RetryOn.Source == NoDefault && p.Backoff.Source == NoDefault && p.Hedging.Source == NoDefault &&
		p.HedgingSkipped == NoDefault && p.RetriesHedged == NoDefault
}

// Default is the .proto retries of one method.
type Default struct {
	// Source is the option that supplied the default, or NoDefault.
	Source Source
	// Retries is the default, the retries after the first attempt. It is
	// meaningful only when Source is not NoDefault.
	Retries uint32
	// IdempotentOnly is the option whose idempotent_only is true for a
	// method that is not idempotent, or NoDefault. It keeps the retries a
	// service or file gives from the method: NotIdempotent is then true,
	// Retries 0 and Declared holds the value Source gives idempotent
	// methods. A method's own retries apply all the same.
	IdempotentOnly Source
	NotIdempotent  bool
	Declared       uint32
}

// A Setting is one field of a policy, and the option that set it.
type Setting[T any] struct {
	Source Source // NoDefault when no option sets the field
	Value  T
}

// Backoff is a resolved backoff: the defaults of retry.proto filled in.
type Backoff struct {
	Initial, Max time.Duration
	Multiplier   float64
}

// Budget is a resolved budget: the defaults of retry.proto filled in.
type Budget struct {
	Ratio               float64
	MinRetriesPerSecond uint32
}

// Hedging is a resolved hedging: the number of copies, and a fixed delay
// or a percentile of the method's latencies, exactly one of them set.
type Hedging struct {
	MaxAttempts     uint32
	Delay           time.Duration
	DelayPercentile float64
}

// The defaults retry.proto gives the fields of a Backoff and a Budget that
// are not set.
const (
	defaultMaxPerInitial       = 100
	defaultMultiplier          = 2
	defaultMinRetriesPerSecond = 10
)

// Resolve returns the .proto retry policy of a method (docs/design.md,
// "Resolving a method's policy"). For each field: the method's own option,
// if it sets the field; else the service's, else the file's; else none.
//
// For retries, when the option that supplies the value has
// idempotent_only, a method that is not idempotent gets 0 instead.
//
// Streaming methods take no service or file default. (A method option on a
// streaming method is an error, reported by the checks before emission;
// Resolve ignores it.)
func Resolve(m Method, opts Options) Policy {
	if m.Streaming {
		return Policy{}
	}
	p := Policy{
		Retries: resolveRetries(m, opts),
		Timeout: first(opts, func(o retryOption) (time.Duration, bool) {
			return o.GetTimeout().AsDuration(), o.GetTimeout() != nil
		}),
		RetryOn: first(opts, func(o retryOption) ([]retryv1.Code, bool) {
			return o.GetRetryOn(), len(o.GetRetryOn()) > 0
		}),
		Backoff: first(opts, func(o retryOption) (Backoff, bool) {
			return backoff(o.GetBackoff()), o.GetBackoff() != nil
		}),
		Hedging: first(opts, func(o retryOption) (Hedging, bool) {
			h := o.GetHedging()
			return Hedging{h.GetMaxAttempts(), h.GetDelay().AsDuration(), h.GetDelayPercentile()}, h != nil
		}),
	}
	if h := p.Hedging; h.Source != NoDefault && !m.Idempotent {
		// Only a service's or a file's can get here: a method's own hedging
		// on a method that is not idempotent is an error.
		p.Hedging, p.HedgingSkipped = Setting[Hedging]{}, h.Source
	}
	if h, r := p.Hedging, p.Retries; h.Source != NoDefault && r.Source != NoDefault {
		// Retries and hedging are exclusive: the more specific option wins,
		// and an option that gives both hedges the methods it can.
		if h.Source <= r.Source {
			p.Retries, p.RetriesHedged = Default{}, r.Source
		} else {
			p.Hedging = Setting[Hedging]{}
		}
	}
	return p
}

// ResolveBudget returns the .proto budget of a service: its own option's,
// else its file's, else none.
func ResolveBudget(opts Options) Setting[Budget] {
	for _, level := range []struct {
		src    Source
		budget *retryv1.Budget
	}{{ServiceOption, opts.Service.GetBudget()}, {FileOption, opts.File.GetBudget()}} {
		if b := level.budget; b != nil {
			min := uint32(defaultMinRetriesPerSecond)
			if b.MinRetriesPerSecond != nil {
				min = b.GetMinRetriesPerSecond()
			}
			return Setting[Budget]{level.src, Budget{Ratio: b.GetRatio(), MinRetriesPerSecond: min}}
		}
	}
	return Setting[Budget]{}
}

// first returns the value of the first option, method, service then file,
// that sets a field: get reports it.
func first[T any](opts Options, get func(retryOption) (T, bool)) Setting[T] {
	for _, level := range opts.levels() {
		if v, ok := get(level.option); ok {
			return Setting[T]{level.src, v}
		}
	}
	return Setting[T]{}
}

// A level is the option of one level that reaches a method.
type level struct {
	src    Source
	option retryOption
}

// levels returns the options that are set, most specific first.
func (opts Options) levels() []level {
	levels := make([]level, 0, 3)
	if opts.Method != nil {
		levels = append(levels, level{MethodOption, opts.Method})
	}
	if opts.Service != nil {
		levels = append(levels, level{ServiceOption, opts.Service})
	}
	if opts.File != nil {
		levels = append(levels, level{FileOption, opts.File})
	}
	return levels
}

// resolveRetries resolves the retries of m and, on its own, idempotent_only:
// the service's if it sets it, else the file's. When it is true and m is
// not idempotent, retries that come from the service or the file become 0;
// a method's own retries stand.
func resolveRetries(m Method, opts Options) Default {
	d := first(opts, func(o retryOption) (uint32, bool) { return o.GetRetries(), retriesSet(o) })
	out := Default{Source: d.Source, Retries: d.Value}
	if d.Source == NoDefault || m.Idempotent {
		return out
	}
	switch {
	case opts.Service != nil && opts.Service.IdempotentOnly != nil:
		if opts.Service.GetIdempotentOnly() {
			out.IdempotentOnly = ServiceOption
		}
	case opts.File.GetIdempotentOnly():
		out.IdempotentOnly = FileOption
	}
	if out.IdempotentOnly != NoDefault && d.Source != MethodOption {
		out.NotIdempotent, out.Declared, out.Retries = true, d.Value, 0
	}
	return out
}

// retriesSet reports whether the option o sets retries.
func retriesSet(o retryOption) bool {
	switch o := o.(type) {
	case *retryv1.MethodRetry:
		return o.Retries != nil
	case *retryv1.ServiceRetry:
		return o.Retries != nil
	case *retryv1.FileRetry:
		return o.Retries != nil
	}
	return false
}

// backoff fills in the defaults of b.
func backoff(b *retryv1.Backoff) Backoff {
	out := Backoff{Initial: b.GetInitial().AsDuration(), Max: b.GetMax().AsDuration(), Multiplier: b.GetMultiplier()}
	if b.GetMax() == nil {
		out.Max = time.Duration(math.MaxInt64) // what a longer one saturates to
		if out.Initial <= out.Max/defaultMaxPerInitial {
			out.Max = defaultMaxPerInitial * out.Initial
		}
	}
	if out.Multiplier == 0 {
		out.Multiplier = defaultMultiplier
	}
	return out
}
