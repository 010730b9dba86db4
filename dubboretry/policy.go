package dubboretry

import (
	"fmt"
	"math"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
)

// Backoff spaces the retries of a call: the delay before retry n (n = 1, 2,
// ...) is drawn uniformly from [0, min(Max, Initial × Multiplier^(n-1))]
// ("full jitter"). See [Backoff.Ceiling] and [Backoff.Delay].
type Backoff struct {
	// Initial is the ceiling of the first delay. It must be above 0.
	Initial time.Duration
	// Max caps every ceiling. 0 means 100 × Initial; otherwise it must be
	// at least Initial.
	Max time.Duration
	// Multiplier is the growth of the ceiling from one retry to the next.
	// 0 means 2; otherwise it must be at least 1.
	Multiplier float64
}

// Budget caps the retries of a service, per process: over a sliding window
// of 10 s, its retries may number at most Ratio × its first attempts plus
// MinRetriesPerSecond × 10. A retry the budget refuses is not made.
type Budget struct {
	// Ratio is the share of first attempts that may be retried, in (0, 1].
	Ratio float64
	// MinRetriesPerSecond is a reserve of retries allowed whatever the
	// ratio, for services that make few calls. 0 is no reserve (the .proto's
	// default of 10 is filled in by the generator, not here).
	MinRetriesPerSecond uint32
}

// Hedging sends copies of a unary call to distinct providers before the
// first has answered, and takes the first success (docs/design.md,
// "Hedging"). Exactly one of Delay and DelayPercentile is set.
type Hedging struct {
	// MaxAttempts is the number of copies in all, the first included: 2 to 5.
	MaxAttempts uint32
	// Delay is how long to wait for an answer before sending the next copy.
	Delay time.Duration
	// DelayPercentile, in (0, 100), makes the delay adaptive: that
	// percentile of the latencies of the method's recent successful
	// attempts in this process.
	DelayPercentile float64
}

// Validate reports whether h is a valid hedging, for callers that build
// one from configuration: the options of this package panic on an invalid
// one.
func (h Hedging) Validate() error {
	switch {
	case h.MaxAttempts < 2 || h.MaxAttempts > 5:
		return fmt.Errorf("hedging max attempts is %d; want 2 to 5", h.MaxAttempts)
	case (h.Delay != 0) == (h.DelayPercentile != 0):
		return fmt.Errorf("hedging sets delay %v and delay percentile %v; want exactly one", h.Delay, h.DelayPercentile)
	case h.Delay < 0:
		return fmt.Errorf("hedging delay is %v; want above 0", h.Delay)
	case h.DelayPercentile != 0 && !(h.DelayPercentile > 0 && h.DelayPercentile < 100):
		return fmt.Errorf("hedging delay percentile is %v; want above 0 and below 100", h.DelayPercentile)
	}
	return nil
}

// withDefaults returns b with Max and Multiplier filled in where they are 0.
func (b Backoff) withDefaults() Backoff {
	if b.Max == 0 && b.Initial > 0 && b.Initial <= math.MaxInt64/100 {
		b.Max = 100 * b.Initial
	} else if b.Max == 0 {
		b.Max = time.Duration(math.MaxInt64)
	}
	if b.Multiplier == 0 {
		b.Multiplier = 2
	}
	return b
}

// Validate reports whether b is a valid backoff (after the defaults of its
// zero fields), for callers that build one from configuration: the options
// of this package panic on an invalid one.
func (b Backoff) Validate() error {
	d := b.withDefaults()
	switch {
	case b.Initial <= 0:
		return fmt.Errorf("backoff initial is %v; want above 0", b.Initial)
	case d.Max < d.Initial:
		return fmt.Errorf("backoff max is %v, below initial %v", b.Max, b.Initial)
	case math.IsNaN(d.Multiplier) || math.IsInf(d.Multiplier, 0) || d.Multiplier < 1:
		return fmt.Errorf("backoff multiplier is %v; want at least 1", b.Multiplier)
	}
	return nil
}

// Validate reports whether b is a valid budget.
func (b Budget) Validate() error {
	if math.IsNaN(b.Ratio) || b.Ratio <= 0 || b.Ratio > 1 {
		return fmt.Errorf("budget ratio is %v; want above 0 and at most 1", b.Ratio)
	}
	return nil
}

// validateCodes reports whether codes can be retried: Triple codes from
// CANCELED (1) to UNAUTHENTICATED (16), each once.
func validateCodes(codes []triple_protocol.Code) error {
	var seen codeSet
	for _, c := range codes {
		if c < triple_protocol.CodeCanceled || c > triple_protocol.CodeUnauthenticated {
			return fmt.Errorf("retry on code %d: want a Triple code from 1 (canceled) to 16 (unauthenticated); a business error is never retried", uint32(c))
		}
		if seen.has(c) {
			return fmt.Errorf("retry on %v twice", c)
		}
		seen = seen.with(c)
	}
	return nil
}

// validateMethodName reports whether name can name a method: a .proto
// identifier, which is also what the parameters that carry a policy can
// hold without escaping.
func validateMethodName(name string) error {
	if name == "" {
		return fmt.Errorf("empty method name")
	}
	for i, r := range name {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return fmt.Errorf("method name %q: want the .proto name of the method (letters, digits and _)", name)
		}
	}
	return nil
}
