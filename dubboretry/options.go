package dubboretry

import (
	"strconv"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"go.opentelemetry.io/otel/metric"
)

// WithRetryOn retries the service's failed calls only when their Triple code
// is one of codes. With no codes, every failure that is not a business
// error is retried: dubbo-go's rule. It overrides the .proto's retry_on for
// every method, except for methods given WithMethodRetryOn.
//
// A code outside 1 (canceled) to 16 (unauthenticated), or listed twice,
// panics here: a business error is never retried.
func WithRetryOn(codes ...triple_protocol.Code) client.ReferenceOption {
	return retryOn("WithRetryOn", "", codes)
}

// WithMethodRetryOn is WithRetryOn for one method, named as in the .proto
// (and as client.WithMethod names it). It beats WithRetryOn for the method.
func WithMethodRetryOn(method string, codes ...triple_protocol.Code) client.ReferenceOption {
	mustMethod("WithMethodRetryOn", method)
	return retryOn("WithMethodRetryOn", method, codes)
}

func retryOn(name, method string, codes []triple_protocol.Code) client.ReferenceOption {
	if err := validateCodes(codes); err != nil {
		panic("dubboretry." + name + ": " + err.Error())
	}
	return addSetting(item(method, kindRetryOn, retryOnArg(setOf(codes))))
}

// WithBackoff spaces the retries of the service's calls: the delay before
// retry n is drawn uniformly from [0, min(max, initial × multiplier^(n-1))].
// max 0 means 100 × initial, multiplier 0 means 2. It overrides the
// .proto's backoff for every method, except for methods given
// WithMethodBackoff or WithoutMethodBackoff.
//
// initial <= 0, max below initial or multiplier below 1 panics here; check
// values read from configuration with Backoff.Validate first.
func WithBackoff(initial, max time.Duration, multiplier float64) client.ReferenceOption {
	return backoff("WithBackoff", "", &Backoff{Initial: initial, Max: max, Multiplier: multiplier})
}

// WithMethodBackoff is WithBackoff for one method. It beats WithBackoff and
// WithoutBackoff for the method.
func WithMethodBackoff(method string, initial, max time.Duration, multiplier float64) client.ReferenceOption {
	mustMethod("WithMethodBackoff", method)
	return backoff("WithMethodBackoff", method, &Backoff{Initial: initial, Max: max, Multiplier: multiplier})
}

// WithoutBackoff makes the retries of the service's calls immediate, as
// dubbo-go's are, whatever the .proto says.
func WithoutBackoff() client.ReferenceOption {
	return addSetting(item("", kindBackoff, backoffArg(nil)))
}

// WithoutMethodBackoff is WithoutBackoff for one method.
func WithoutMethodBackoff(method string) client.ReferenceOption {
	mustMethod("WithoutMethodBackoff", method)
	return addSetting(item(method, kindBackoff, backoffArg(nil)))
}

func backoff(name, method string, b *Backoff) client.ReferenceOption {
	if err := b.Validate(); err != nil {
		panic("dubboretry." + name + ": " + err.Error())
	}
	return addSetting(item(method, kindBackoff, backoffArg(b)))
}

// WithBudget caps the retries of the service, per process: over a sliding
// 10 s window, at most ratio × its first attempts plus minRetriesPerSecond ×
// 10 (the .proto's default for it is 10; here 0 means none). A retry the
// budget refuses is not made: the call ends with its last error. It
// replaces the .proto's budget.
//
// The references of one service in a process that have the same budget
// share it. A ratio outside (0, 1] panics here.
func WithBudget(ratio float64, minRetriesPerSecond uint32) client.ReferenceOption {
	b := &Budget{Ratio: ratio, MinRetriesPerSecond: minRetriesPerSecond}
	if err := b.Validate(); err != nil {
		panic("dubboretry.WithBudget: " + err.Error())
	}
	return addSetting(item("", kindBudget, budgetArg(b)))
}

// WithoutBudget lifts the .proto's budget: retries are not capped, as in
// dubbo-go.
func WithoutBudget() client.ReferenceOption {
	return addSetting(item("", kindBudget, budgetArg(nil)))
}

// WithHedging hedges the calls of the service's methods that the .proto
// declares safe to repeat (idempotency_level IDEMPOTENT or NO_SIDE_EFFECTS):
// up to h.MaxAttempts copies of a call go to distinct providers, the next
// when the copies before have not answered within h.Delay (or the
// h.DelayPercentile of the method's recent latencies), or at once when one
// fails with a code the method retries; the first success wins, and the
// other copies are cancelled. It overrides the .proto's hedging, except for
// methods given WithMethodHedging or WithoutMethodHedging. A method that is
// not declared safe to repeat is never hedged; neither is a reference this
// plugin did not generate, which declares nothing.
//
// An invalid h panics here; check values read from configuration with
// Hedging.Validate first.
func WithHedging(h Hedging) client.ReferenceOption {
	return hedging("WithHedging", "", &h)
}

// WithMethodHedging is WithHedging for one method. It beats WithHedging and
// WithoutHedging for the method.
func WithMethodHedging(method string, h Hedging) client.ReferenceOption {
	mustMethod("WithMethodHedging", method)
	return hedging("WithMethodHedging", method, &h)
}

// WithoutHedging sends one copy of each call of the service, whatever the
// .proto says.
func WithoutHedging() client.ReferenceOption {
	return addSetting(item("", kindHedging, hedgingArg(nil)))
}

// WithoutMethodHedging is WithoutHedging for one method.
func WithoutMethodHedging(method string) client.ReferenceOption {
	mustMethod("WithoutMethodHedging", method)
	return addSetting(item(method, kindHedging, hedgingArg(nil)))
}

func hedging(name, method string, h *Hedging) client.ReferenceOption {
	if err := h.Validate(); err != nil {
		panic("dubboretry." + name + ": " + err.Error())
	}
	return addSetting(item(method, kindHedging, hedgingArg(h)))
}

// WithJitterSeed makes the delays of the service's retries reproducible,
// for tests and simulations: the service draws the jitter of its delays from
// rand.New(rand.NewPCG(seed, seed)) (math/rand/v2), one Float64 per delay in
// the order it waits them, the n-th delay before retry k being
// Backoff.Delay(k, the n-th draw). Draws are serialised by a mutex. Without
// it, each delay is drawn from math/rand/v2's global source.
func WithJitterSeed(seed uint64) client.ReferenceOption {
	v := strconv.FormatUint(seed, 10)
	return func(o *client.ReferenceOptions) {
		setParam(o, paramSeed, v)
	}
}

// WithMeterProvider records the metrics of the service's calls with mp
// instead of the global MeterProvider (otel.GetMeterProvider()). nil means
// the global one. It reaches the service it is given to alone, and selects
// this package's cluster for it, as every option of this package does: a
// service the caller puts on another cluster (client.WithClusterFailFast…)
// records no metrics. Streams record none.
//
// mp is kept, for the life of the process, in a registry of this package
// that the reference's parameter dubboretry.meter names: options reach the
// cluster as reference parameters, which are strings. The registry holds
// each provider once (a provider that is not a pointer, once per
// WithMeterProvider).
func WithMeterProvider(mp metric.MeterProvider) client.ReferenceOption {
	id := meterProviders.add(mp)
	return func(o *client.ReferenceOptions) {
		o.Reference = o.Reference.Clone()
		if id == "" {
			delete(o.Reference.Params, paramMeter)
		}
		usePolicy(o.Reference, paramMeter, id)
	}
}

func mustMethod(name, method string) {
	if err := validateMethodName(method); err != nil {
		panic("dubboretry." + name + ": " + err.Error())
	}
}

// addSetting returns the option that adds it to layer 3.
func addSetting(it string) client.ReferenceOption {
	return func(o *client.ReferenceOptions) {
		setParam(o, paramOptions, appendItem(o.Reference.Params[paramOptions], it))
	}
}

// setParam sets the parameter k of the reference of o to v, and selects
// the cluster of this package for it.
//
// It writes only what belongs to this reference. dubbo-go hands every
// reference of a client the client's one reference config, and the
// reference's Params map may be the caller's own (client.WithParams keeps
// the map it is given): so it gives the reference a copy of the config
// first, which every later option of the reference then writes instead.
// (Dial has already given a generated service its own copy; one more costs
// the creation of the service a little, and no call anything.)
//
// The cluster is selected unless the caller (or the client) chose one
// other than failover: then the caller's choice stands and the policy is
// not enforced, for the policy is failover's.
func setParam(o *client.ReferenceOptions, k, v string) {
	o.Reference = o.Reference.Clone()
	usePolicy(o.Reference, k, v)
}

// usePolicy sets the parameter k of ref, whose Params map is ref's own, to
// v, and selects the cluster of this package, unless ref has one other than
// failover.
func usePolicy(ref *global.ReferenceConfig, k, v string) {
	if v != "" {
		// An empty value is no setting: leave it off the URL, which dubbo-go
		// copies, parameter by parameter, many times over.
		if ref.Params == nil {
			ref.Params = make(map[string]string)
		}
		ref.Params[k] = v
	}
	if ref.Cluster == "" || ref.Cluster == constant.ClusterKeyFailover {
		ref.Cluster = ClusterName
	}
}
