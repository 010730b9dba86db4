package dubboretry

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
)

// A policy reaches the cluster as parameters of the service's reference
// (global.ReferenceConfig.Params), which dubbo-go copies onto the URL the
// cluster joins. Each layer has a parameter of its own, so that the order
// of the options does not matter between layers:
//
//	dubboretry.proto    written by Dial: the .proto's retry_on, backoff and
//	                    budget (layer 2), and each method's retries and
//	                    timeout where the layers below the call set them
//	                    (layers 2 and 3, resolved by Dial)
//	dubboretry.options  layer 3, written by the With… options of callers
//	dubboretry.seed     the seed of WithJitterSeed
//
// A layer is a list of settings separated by "~", each one
// scope-kind-argument:
//
//	m.GetCart-retryon-unavailable.deadline_exceeded
//	m.GetCart-backoff-10ms_1s_2          (initial_max_multiplier, or none)
//	m.GetCart-hedging-2_20ms             (copies_delay, copies_p95, or none)
//	m.GetCart-retries-3                  (Dial only)
//	m.GetCart-timeout-300ms              (Dial only)
//	s-retryon-any                        (s: the whole service; any: dubbo-go's rule)
//	s-budget-0.1_10                      (ratio_min-retries-per-second, or none)
//
// Within a layer a later setting of the same scope and kind replaces an
// earlier one. Every character is one that URL query escaping leaves alone
// (letters, digits, . _ ~ -): dubbo-go formats the service's URL on every
// call, and an escaped parameter would cost each call an allocation.
const (
	paramProto   = "dubboretry.proto"
	paramOptions = "dubboretry.options"
	paramSeed    = "dubboretry.seed"
)

const (
	scopeService = "s"
	scopeMethod  = "m."

	kindRetryOn = "retryon"
	kindBackoff = "backoff"
	kindBudget  = "budget"
	kindRetries = "retries"
	kindTimeout = "timeout"
	kindHedging = "hedging"

	argAny  = "any"
	argNone = "none"
)

// setting is what one scope of a layer says; a field that is not set says
// nothing.
type setting struct {
	retryOnSet bool
	retryOn    codeSet // empty: every non-business error
	backoffSet bool
	backoff    Backoff // Initial == 0: immediate retries
	hedgingSet bool
	hedging    Hedging // MaxAttempts == 0: none
	// For a method, as Dial resolves them: its retries, when they must
	// override what the URL says, and its timeout (0: none).
	retriesSet bool
	retries    int
	timeout    time.Duration
}

// layer is one decoded parameter.
type layer struct {
	service   setting
	methods   map[string]*setting
	budgetSet bool
	budget    Budget // Ratio == 0: no budget
}

func (l *layer) method(name string) *setting {
	if l.methods == nil {
		l.methods = make(map[string]*setting)
	}
	s := l.methods[name]
	if s == nil {
		s = new(setting)
		l.methods[name] = s
	}
	return s
}

// item returns one setting of a layer. scope is "" for the whole service.
func item(method, kind, arg string) string {
	scope := scopeService
	if method != "" {
		scope = scopeMethod + method
	}
	return scope + "-" + kind + "-" + arg
}

func retryOnArg(s codeSet) string {
	if s == 0 {
		return argAny
	}
	var b strings.Builder
	for _, c := range s.codes() {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(c.String())
	}
	return b.String()
}

func backoffArg(b *Backoff) string {
	if b == nil {
		return argNone
	}
	d := b.withDefaults()
	return formatDuration(d.Initial) + "_" + formatDuration(d.Max) + "_" + formatFloat(d.Multiplier)
}

func hedgingArg(h *Hedging) string {
	switch {
	case h == nil || h.MaxAttempts == 0:
		return argNone
	case h.Delay > 0:
		return strconv.FormatUint(uint64(h.MaxAttempts), 10) + "_" + formatDuration(h.Delay)
	}
	return strconv.FormatUint(uint64(h.MaxAttempts), 10) + "_p" + formatFloat(h.DelayPercentile)
}

func budgetArg(b *Budget) string {
	if b == nil {
		return argNone
	}
	return formatFloat(b.Ratio) + "_" + strconv.FormatUint(uint64(b.MinRetriesPerSecond), 10)
}

// appendItem returns the layer value v with it added last.
func appendItem(v, it string) string {
	if v == "" {
		return it
	}
	return v + "~" + it
}

// items builds a layer value, item by item.
type items struct{ strings.Builder }

// add adds the item scope-kind-arg, method being "" for the whole service.
func (b *items) add(method, kind, arg string) {
	if b.Len() > 0 {
		b.WriteByte('~')
	}
	if method == "" {
		b.WriteString(scopeService)
	} else {
		b.WriteString(scopeMethod)
		b.WriteString(method)
	}
	b.WriteByte('-')
	b.WriteString(kind)
	b.WriteByte('-')
	b.WriteString(arg)
}

// noLayer is a layer that says nothing. It is never changed.
var noLayer = new(layer)

// decodeLayer parses a layer value.
func decodeLayer(v string) (*layer, error) {
	if v == "" {
		return noLayer, nil
	}
	l := new(layer)
	for it := range strings.SplitSeq(v, "~") {
		if err := l.decodeItem(it); err != nil {
			return nil, fmt.Errorf("setting %q: %v", it, err)
		}
	}
	return l, nil
}

func (l *layer) decodeItem(it string) error {
	scope, rest, ok := strings.Cut(it, "-")
	kind, arg, ok2 := strings.Cut(rest, "-")
	if !ok || !ok2 {
		return fmt.Errorf("want scope-kind-argument")
	}
	s := &l.service
	method := ""
	switch {
	case scope == scopeService:
	case strings.HasPrefix(scope, scopeMethod):
		method = scope[len(scopeMethod):]
		if err := validateMethodName(method); err != nil {
			return err
		}
		s = l.method(method)
	default:
		return fmt.Errorf("unknown scope %q", scope)
	}
	switch kind {
	case kindRetryOn:
		codes, err := parseCodes(arg)
		if err != nil {
			return err
		}
		s.retryOnSet, s.retryOn = true, codes
	case kindBackoff:
		b, err := parseBackoff(arg)
		if err != nil {
			return err
		}
		s.backoffSet, s.backoff = true, b
	case kindHedging:
		h, err := parseHedging(arg)
		if err != nil {
			return err
		}
		s.hedgingSet, s.hedging = true, h
	case kindRetries, kindTimeout:
		if method == "" {
			return fmt.Errorf("%s is set for a method, not a whole service", kind)
		}
		if kind == kindTimeout {
			d, err := time.ParseDuration(arg)
			if err != nil || d <= 0 {
				return fmt.Errorf("timeout %q: want a duration above 0", arg)
			}
			s.timeout = d
			return nil
		}
		n, err := strconv.ParseUint(arg, 10, 31)
		if err != nil {
			return fmt.Errorf("retries %q: %v", arg, err)
		}
		s.retriesSet, s.retries = true, int(n)
	case kindBudget:
		if method != "" {
			return fmt.Errorf("a budget is set for a whole service, not a method")
		}
		b, err := parseBudget(arg)
		if err != nil {
			return err
		}
		l.budgetSet, l.budget = true, b
	default:
		return fmt.Errorf("unknown kind %q", kind)
	}
	return nil
}

func parseCodes(arg string) (codeSet, error) {
	if arg == argAny {
		return 0, nil
	}
	var codes []triple_protocol.Code
	for name := range strings.SplitSeq(arg, ".") {
		var c triple_protocol.Code
		if err := c.UnmarshalText([]byte(name)); err != nil {
			return 0, err
		}
		codes = append(codes, c)
	}
	if err := validateCodes(codes); err != nil {
		return 0, err
	}
	return setOf(codes), nil
}

func parseBackoff(arg string) (Backoff, error) {
	if arg == argNone {
		return Backoff{}, nil
	}
	parts := strings.Split(arg, "_")
	if len(parts) != 3 {
		return Backoff{}, fmt.Errorf("want initial_max_multiplier or %s", argNone)
	}
	var b Backoff
	var err error
	if b.Initial, err = time.ParseDuration(parts[0]); err != nil {
		return Backoff{}, err
	}
	if b.Max, err = time.ParseDuration(parts[1]); err != nil {
		return Backoff{}, err
	}
	if b.Multiplier, err = strconv.ParseFloat(parts[2], 64); err != nil {
		return Backoff{}, err
	}
	if err := b.Validate(); err != nil {
		return Backoff{}, err
	}
	return b, nil
}

func parseHedging(arg string) (Hedging, error) {
	if arg == argNone {
		return Hedging{}, nil
	}
	copies, delay, ok := strings.Cut(arg, "_")
	if !ok {
		return Hedging{}, fmt.Errorf("want copies_delay, copies_pPERCENTILE or %s", argNone)
	}
	n, err := strconv.ParseUint(copies, 10, 32)
	if err != nil {
		return Hedging{}, err
	}
	h := Hedging{MaxAttempts: uint32(n)}
	if p, ok := strings.CutPrefix(delay, "p"); ok {
		h.DelayPercentile, err = strconv.ParseFloat(p, 64)
	} else {
		h.Delay, err = time.ParseDuration(delay)
	}
	if err != nil {
		return Hedging{}, err
	}
	if err := h.Validate(); err != nil {
		return Hedging{}, err
	}
	return h, nil
}

func parseBudget(arg string) (Budget, error) {
	if arg == argNone {
		return Budget{}, nil
	}
	ratio, minPerSecond, ok := strings.Cut(arg, "_")
	if !ok {
		return Budget{}, fmt.Errorf("want ratio_minRetriesPerSecond or %s", argNone)
	}
	var b Budget
	var err error
	if b.Ratio, err = strconv.ParseFloat(ratio, 64); err != nil {
		return Budget{}, err
	}
	n, err := strconv.ParseUint(minPerSecond, 10, 32)
	if err != nil {
		return Budget{}, err
	}
	b.MinRetriesPerSecond = uint32(n)
	if err := b.Validate(); err != nil {
		return Budget{}, err
	}
	return b, nil
}

// formatDuration writes d in the largest unit of s, ms, us and ns that
// holds it whole: time.Duration.String writes µ, which URLs escape.
func formatDuration(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "us"}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

// formatFloat writes f without an exponent, whose + URLs escape. f is
// finite and not negative.
func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		panic("dubboretry: formatFloat of " + fmt.Sprint(f))
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
