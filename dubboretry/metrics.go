package dubboretry

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"dubbo.apache.org/dubbo-go/v3/common"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"github.com/dubbogo/gost/log/logger"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Metrics (docs/design.md, "Observability"). The cluster records, for
// every unary call of a service it runs (hedged or not), through
// OpenTelemetry's API only:
//
//	dubboretry.client.attempt.started    Counter {attempt}    every attempt sent (hedged copies included)
//	dubboretry.client.attempt.duration   Histogram s          each attempt, with rpc.grpc.status_code
//	dubboretry.client.call.duration      Histogram s          each call, all its attempts and delays
//	dubboretry.client.call.retries       Histogram {retry}    the retries (or hedged copies) a call made
//	dubboretry.client.call.retry_delay   Histogram s          the backoff a call waited, in all
//	dubboretry.client.budget.exhausted   Counter {retry}      retries (or copies) the budget refused
//
// each with rpc.service (the interface the service is called by: its
// .proto full name for a generated service) and rpc.method (the .proto
// name of the method).
//
// The instruments come from the MeterProvider given with
// [WithMeterProvider], else from the global one, otel.GetMeterProvider(),
// taken when the cluster joins the service's directory: the global
// provider's meters delegate to a provider set later with
// otel.SetMeterProvider. The attribute sets of each method, and of each
// of its status codes, are made then too: a call builds no attribute, and
// with the global provider unset (a no-op) costs no allocation.
const (
	// MeterName is the name of the instrumentation scope of the metrics
	// the cluster records.
	MeterName = "github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"

	metricAttemptStarted  = "dubboretry.client.attempt.started"
	metricAttemptDuration = "dubboretry.client.attempt.duration"
	metricCallDuration    = "dubboretry.client.call.duration"
	metricCallRetries     = "dubboretry.client.call.retries"
	metricRetryDelay      = "dubboretry.client.call.retry_delay"
	metricBudgetExhausted = "dubboretry.client.budget.exhausted"

	attrService    = "rpc.service"
	attrMethod     = "rpc.method"
	attrStatusCode = "rpc.grpc.status_code"
)

// Bucket boundaries: the OpenTelemetry semantic conventions' for RPC
// durations in seconds (the SDK's default ones are for milliseconds), and
// one bucket per retry up to the cap of the generator's max_retries.
var (
	secondsBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
	retriesBuckets = []float64{0, 1, 2, 3, 4, 5, 10}
)

// paramMeter is the reference parameter that names the MeterProvider of
// WithMeterProvider in meterProviders.
const paramMeter = "dubboretry.meter"

// meterProviders holds the providers of WithMeterProvider, by id.
var meterProviders providerRegistry

type providerRegistry struct {
	mu   sync.Mutex
	ids  map[any]string // a provider that can be a map key → its id
	byID map[string]metric.MeterProvider
}

// add returns the id of mp, registering it if it is new; "" for nil.
func (r *providerRegistry) add(mp metric.MeterProvider) string {
	if mp == nil {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	keyed := reflect.TypeOf(mp).Kind() == reflect.Pointer
	if keyed {
		if id, ok := r.ids[mp]; ok {
			return id
		}
	}
	if r.byID == nil {
		r.byID = make(map[string]metric.MeterProvider)
		r.ids = make(map[any]string)
	}
	id := strconv.Itoa(len(r.byID) + 1)
	r.byID[id] = mp
	if keyed {
		r.ids[mp] = id
	}
	return id
}

// get returns the provider of id.
func (r *providerRegistry) get(id string) (metric.MeterProvider, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	mp, ok := r.byID[id]
	return mp, ok
}

// instruments are the instruments of one MeterProvider.
type instruments struct {
	attemptStarted  metric.Int64Counter
	attemptDuration metric.Float64Histogram
	callDuration    metric.Float64Histogram
	callRetries     metric.Int64Histogram
	retryDelay      metric.Float64Histogram
	budgetExhausted metric.Int64Counter
}

// allInstruments holds the instruments of each provider the process has
// used: the global provider's meters keep every instrument made from them
// until a provider is set, and an SDK makes each once anyway. It grows by
// one entry per provider, never per call or per service.
var allInstruments sync.Map // metric.MeterProvider (a pointer) → *instruments

// instrumentsOf returns the instruments of mp.
func instrumentsOf(mp metric.MeterProvider) *instruments {
	keyed := reflect.TypeOf(mp).Kind() == reflect.Pointer
	if keyed {
		if v, ok := allInstruments.Load(mp); ok {
			return v.(*instruments)
		}
	}
	in := newInstruments(mp.Meter(MeterName))
	if keyed {
		v, _ := allInstruments.LoadOrStore(mp, in)
		in = v.(*instruments)
	}
	return in
}

// newInstruments makes the instruments of m. One that m cannot make is
// reported to otel.Handle, and is a no-op.
func newInstruments(m metric.Meter) *instruments {
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var noops noop.Meter
	in := new(instruments)
	var err error
	if in.attemptStarted, err = m.Int64Counter(metricAttemptStarted, metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts of unary calls sent to a provider, hedged copies included.")); err != nil {
		check(err)
		in.attemptStarted, _ = noops.Int64Counter("")
	}
	if in.attemptDuration, err = m.Float64Histogram(metricAttemptDuration, metric.WithUnit("s"),
		metric.WithDescription("The duration of each attempt of a unary call, by its status code."),
		metric.WithExplicitBucketBoundaries(secondsBuckets...)); err != nil {
		check(err)
		in.attemptDuration, _ = noops.Float64Histogram("")
	}
	if in.callDuration, err = m.Float64Histogram(metricCallDuration, metric.WithUnit("s"),
		metric.WithDescription("The duration of each unary call: its attempts and the delays between them."),
		metric.WithExplicitBucketBoundaries(secondsBuckets...)); err != nil {
		check(err)
		in.callDuration, _ = noops.Float64Histogram("")
	}
	if in.callRetries, err = m.Int64Histogram(metricCallRetries, metric.WithUnit("{retry}"),
		metric.WithDescription("The retries (or hedged copies) each unary call made after its first attempt."),
		metric.WithExplicitBucketBoundaries(retriesBuckets...)); err != nil {
		check(err)
		in.callRetries, _ = noops.Int64Histogram("")
	}
	if in.retryDelay, err = m.Float64Histogram(metricRetryDelay, metric.WithUnit("s"),
		metric.WithDescription("The backoff each unary call waited between its attempts, in all."),
		metric.WithExplicitBucketBoundaries(secondsBuckets...)); err != nil {
		check(err)
		in.retryDelay, _ = noops.Float64Histogram("")
	}
	if in.budgetExhausted, err = m.Int64Counter(metricBudgetExhausted, metric.WithUnit("{retry}"),
		metric.WithDescription("Retries (or hedged copies) that the service's retry budget refused.")); err != nil {
		check(err)
		in.budgetExhausted, _ = noops.Int64Counter("")
	}
	if len(errs) > 0 {
		otel.Handle(errors.Join(errs...))
	}
	return in
}

// codeSlots is the number of status codes an attempt is recorded with:
// 0 (OK) to 16, and 17, CodeBizError, a handler's plain error.
const codeSlots = int(triple_protocol.CodeBizError) + 1

// methodMetrics records the metrics of one method of a service. Its
// options are made once: a measurement passes them as they are, which
// allocates nothing.
type methodMetrics struct {
	in      *instruments
	service attribute.KeyValue
	method  attribute.KeyValue
	add     []metric.AddOption    // rpc.service, rpc.method
	rec     []metric.RecordOption // rpc.service, rpc.method
	// byCode are rec with rpc.grpc.status_code, by code, each made when
	// an attempt first ends with its code: most methods see two or three
	// of the 18, and making them all would double what creating a service
	// allocates.
	byCode [codeSlots]atomic.Pointer[[]metric.RecordOption]
}

func newMethodMetrics(in *instruments, service, method string) *methodMetrics {
	s, m := attribute.String(attrService, service), attribute.String(attrMethod, method)
	set := metric.WithAttributeSet(attribute.NewSet(s, m))
	return &methodMetrics{in: in, service: s, method: m, add: []metric.AddOption{set}, rec: []metric.RecordOption{set}}
}

// withCode returns the options of an attempt that ended with code. Two
// attempts that race to make them each make a copy, and either is kept:
// they are equal.
func (m *methodMetrics) withCode(code int) []metric.RecordOption {
	if opts := m.byCode[code].Load(); opts != nil {
		return *opts
	}
	opts := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(m.service, m.method, attribute.Int(attrStatusCode, code)))}
	m.byCode[code].Store(&opts)
	return opts
}

// attemptStarted records an attempt sent. m may be nil: no metrics.
func (m *methodMetrics) attemptStarted(ctx context.Context) {
	if m == nil {
		return
	}
	m.in.attemptStarted.Add(ctx, 1, m.add...)
}

// attemptEnded records an attempt that took d and failed with err, or
// succeeded.
func (m *methodMetrics) attemptEnded(ctx context.Context, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.in.attemptDuration.Record(ctx, d.Seconds(), m.withCode(statusCode(err))...)
}

// budgetRefused records a retry (or hedged copy) the budget refused.
func (m *methodMetrics) budgetRefused(ctx context.Context) {
	if m == nil {
		return
	}
	m.in.budgetExhausted.Add(ctx, 1, m.add...)
}

// callRecord is what the metrics of one unary call count as it goes. It
// lives on the call's stack.
type callRecord struct {
	m        *methodMetrics
	start    time.Time
	attempts int           // sent
	waited   time.Duration // in backoff delays
}

// startCall starts the record of a call of m (nil: no metrics).
func startCall(m *methodMetrics) callRecord {
	return callRecord{m: m, start: time.Now()}
}

// end records the call.
func (c *callRecord) end(ctx context.Context) {
	m := c.m
	if m == nil {
		return
	}
	m.in.callDuration.Record(ctx, time.Since(c.start).Seconds(), m.rec...)
	m.in.callRetries.Record(ctx, int64(max(0, c.attempts-1)), m.rec...)
	m.in.retryDelay.Record(ctx, c.waited.Seconds(), m.rec...)
}

// statusCode returns the code an attempt is recorded with: 0 for a
// success, else the error's Triple code (UNKNOWN for an error without one).
func statusCode(err error) int {
	if err == nil {
		return 0
	}
	var c int
	if te, ok := err.(*triple_protocol.Error); ok {
		// The usual error, read without errors.As, which allocates.
		c = int(te.Code())
	} else {
		c = int(triple_protocol.CodeOf(err))
	}
	if c <= 0 || c >= codeSlots {
		return int(triple_protocol.CodeUnknown)
	}
	return c
}

// serviceMetrics records the metrics of one service (one cluster
// invoker). The metrics of a method are made on its first call, so that
// creating a service makes none for the methods it never calls: a method
// its URL lists has a slot from the start; one the URL does not list is
// added to more.
type serviceMetrics struct {
	in      *instruments
	service string
	listed  map[string]int                  // the URL's methods → their slot; never changed
	slots   []atomic.Pointer[methodMetrics] // of the listed methods
	mu      sync.Mutex                      // serialises additions to more
	more    atomic.Pointer[map[string]*methodMetrics]
}

// newServiceMetrics returns the metrics of the service of u, the URL that
// carries its policy, recorded with the provider its parameter names, or
// the global one.
func newServiceMetrics(u *common.URL) *serviceMetrics {
	mp := otel.GetMeterProvider()
	s := new(serviceMetrics)
	if u != nil {
		s.service = u.Service()
		if id := u.GetParam(paramMeter, ""); id != "" {
			if p, ok := meterProviders.get(id); ok {
				mp = p
			} else {
				// Only a hand-written parameter, or one from another
				// process, gets here: metrics are not worth failing calls.
				logger.Warnf("[Cluster][dubboretry] service %s: parameter %s=%s names no MeterProvider of this process; recording with the global one",
					s.service, paramMeter, id)
			}
		}
	}
	s.in = instrumentsOf(mp)
	if u != nil && len(u.Methods) > 0 {
		s.listed = make(map[string]int, len(u.Methods))
		for i, name := range u.Methods {
			s.listed[name] = i
		}
		s.slots = make([]atomic.Pointer[methodMetrics], len(u.Methods))
	}
	return s
}

const (
	// maxUnlistedMethods is how many methods that its URL does not list a
	// service records on their own; the calls of any other are recorded
	// as rpc.method otherMethod.
	maxUnlistedMethods = 64
	otherMethod        = "_OTHER"
)

// method returns the metrics of method; nil if s is nil.
func (s *serviceMetrics) method(name string) *methodMetrics {
	if s == nil {
		return nil
	}
	if i, ok := s.listed[name]; ok {
		if m := s.slots[i].Load(); m != nil {
			return m
		}
		// Two first calls that race each make one; the first stored is kept.
		s.slots[i].CompareAndSwap(nil, newMethodMetrics(s.in, s.service, name))
		return s.slots[i].Load()
	}
	if more := s.more.Load(); more != nil {
		if m, ok := (*more)[name]; ok {
			return m
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.more.Load()
	if old != nil {
		if m, ok := (*old)[name]; ok {
			return m
		}
		if len(*old) >= maxUnlistedMethods {
			// A caller naming methods at will (conn.CallUnary) must not
			// grow the metrics without bound.
			name = otherMethod
			if m, ok := (*old)[name]; ok {
				return m
			}
		}
	}
	more := make(map[string]*methodMetrics, 1)
	if old != nil {
		for k, v := range *old {
			more[k] = v
		}
	}
	m := newMethodMetrics(s.in, s.service, name)
	more[name] = m
	s.more.Store(&more)
	return m
}
