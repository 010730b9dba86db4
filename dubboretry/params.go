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
//	dubboretry.proto    layer 2, written by Defaults (the .proto)
//	dubboretry.options  layer 3, written by the With… options of callers
//	dubboretry.seed     the seed of WithJitterSeed
//
// A layer is a list of settings separated by "~", each one
// scope-kind-argument:
//
//	m.GetCart-retryon-unavailable.deadline_exceeded
//	m.GetCart-backoff-10ms_1s_2          (initial_max_multiplier, or none)
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

// encodePolicy returns the layer-2 value of p, which must be valid.
func encodePolicy(p *ServicePolicy) string {
	var v string
	for _, m := range p.Methods {
		if len(m.RetryOn) > 0 {
			v = appendItem(v, item(m.Name, kindRetryOn, retryOnArg(setOf(m.RetryOn))))
		}
		if m.Backoff != nil {
			v = appendItem(v, item(m.Name, kindBackoff, backoffArg(m.Backoff)))
		}
	}
	if p.Budget != nil {
		v = appendItem(v, item("", kindBudget, budgetArg(p.Budget)))
	}
	return v
}

// decodeLayer parses a layer value.
func decodeLayer(v string) (*layer, error) {
	l := new(layer)
	if v == "" {
		return l, nil
	}
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
