package dubboretry

import (
	"fmt"
	"strconv"
	"sync"

	"dubbo.apache.org/dubbo-go/v3/common"
)

// table is the policy of one service, resolved from its layers once, when
// the cluster joins the service's directory. It is never changed after:
// a call reads it with one map lookup and no lock.
type table struct {
	methods map[string]*rule // the methods that some layer names
	other   *rule            // every other method: the layer-3 service settings
	budget  *Budget          // nil: no budget
	seed    *uint64          // WithJitterSeed
}

// rule returns the rule of method.
func (t *table) rule(method string) *rule {
	if r, ok := t.methods[method]; ok {
		return r
	}
	return t.other
}

// resolve builds the table of layer 2 (proto, the .proto) and layer 3
// (opts, the caller's options). Each field of a method resolves on its own:
// layer-3 method > layer-3 service > layer-2 method > layer-2 service
// (which the generator leaves empty: it resolves the .proto's method >
// service > file itself) > dubbo-go's (every non-business error, at once).
// The budget: layer 3 > layer 2.
func resolve(proto, opts *layer) *table {
	t := new(table)
	// The rules, in one allocation: the service's, then one a method.
	n := len(proto.methods) + len(opts.methods)
	rules := make([]rule, 1, 1+n)
	if n > 0 {
		t.methods = make(map[string]*rule, n)
	}
	t.other = pick(&rules[0], nil, &opts.service, nil, &proto.service)
	for _, l := range []*layer{proto, opts} {
		for name := range l.methods {
			if _, done := t.methods[name]; !done {
				rules = append(rules, rule{})
				r := pick(&rules[len(rules)-1], opts.methods[name], &opts.service, proto.methods[name], &proto.service)
				// Only Dial sets a method's retries, timeout and hedging: it
				// alone knows which methods are safe to hedge.
				if m := proto.methods[name]; m != nil {
					r.retriesSet, r.retries, r.timeout, r.hedging = m.retriesSet, m.retries, m.timeout, m.hedging
				}
				t.methods[name] = r
			}
		}
	}
	switch {
	case opts.budgetSet:
		if opts.budget.Ratio > 0 {
			t.budget = &opts.budget
		}
	case proto.budgetSet:
		if proto.budget.Ratio > 0 {
			t.budget = &proto.budget
		}
	}
	return t
}

// pick resolves r from settings, highest first; nil ones say nothing.
func pick(r *rule, settings ...*setting) *rule {
	retryOn, backoff := false, false
	for _, s := range settings {
		if s == nil {
			continue
		}
		if !retryOn && s.retryOnSet {
			r.retryOn, retryOn = s.retryOn, true
		}
		if !backoff && s.backoffSet {
			r.backoff, backoff = s.backoff, true
		}
	}
	return r
}

// policyURL returns the URL that carries the policy parameters of the
// service whose directory has URL u: u itself for a static directory
// (direct URLs: the consumer's parameters merged onto the provider's), its
// SubURL (the consumer's URL) for a registry directory.
func policyURL(u *common.URL) *common.URL {
	if u == nil {
		return nil
	}
	if u.SubURL != nil && u.GetParam(paramProto, "") == "" && u.GetParam(paramOptions, "") == "" {
		return u.SubURL
	}
	return u
}

// tables holds the tables the cluster has read, by the service and the
// parameters they were read from: the references of a service that have
// one policy (every NewXxxService of it given the same options) share one,
// complete when it is stored and never changed after, so that creating a
// service does not parse its policy again. It grows by one entry per
// service and policy, as the budgets do, never per reference or call.
var tables sync.Map // tableKey → *table

type tableKey struct{ service, proto, options, seed string }

// sharedTable returns the table of service, whose policy u carries, with
// the latencies of its adaptively hedged methods, which every reference of
// a method shares.
func sharedTable(u *common.URL, service string) (*table, error) {
	if u == nil {
		return readTable(nil)
	}
	key := tableKey{service, u.GetParam(paramProto, ""), u.GetParam(paramOptions, ""), u.GetParam(paramSeed, "")}
	if t, ok := tables.Load(key); ok {
		return t.(*table), nil
	}
	t, err := readTable(u)
	if err != nil {
		return nil, err
	}
	for name, r := range t.methods {
		if r.hedging.DelayPercentile > 0 {
			r.latencies = sharedLatencies(service, name, r.hedging.DelayPercentile)
		}
	}
	v, _ := tables.LoadOrStore(key, t)
	return v.(*table), nil
}

// readTable reads and resolves the policy that u carries.
func readTable(u *common.URL) (*table, error) {
	if u == nil {
		return resolve(new(layer), new(layer)), nil
	}
	proto, err := decodeLayer(u.GetParam(paramProto, ""))
	if err != nil {
		return nil, fmt.Errorf("parameter %s: %v", paramProto, err)
	}
	opts, err := decodeLayer(u.GetParam(paramOptions, ""))
	if err != nil {
		return nil, fmt.Errorf("parameter %s: %v", paramOptions, err)
	}
	t := resolve(proto, opts)
	if s := u.GetParam(paramSeed, ""); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %v", paramSeed, err)
		}
		t.seed = &seed
	}
	return t, nil
}
