// The tests of this package read the metrics and the log of the runtime
// dubboretry as a process sees them: generated services of
// testdata/proto/e2e/v1 call real Triple servers that count the attempts
// they see (package testbed), the metrics are read with OpenTelemetry's
// SDK (a ManualReader, or the Prometheus exporter over HTTP), and every
// count must be the servers'.
package metrics

import (
	"context"
	"sync"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"
	"github.com/dubbogo/gost/log/logger"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// seen records, by request id, the attempts the test process's server saw.
var seen = testbed.NewLog()

// services are the services of e2e/v1 the tests call, which the test
// process's server and the provider processes serve.
var services = append([]string{"LayerService", "PlainService"}, testbed.PolicyServices...)

func TestMain(m *testing.M) {
	// The tests fail calls by the thousand; the log test reads the log
	// through a logger of its own.
	logger.SetLoggerLevel("fatal")
	testbed.Main(nil)
	testbed.RunTests(m, func(srv *server.Server) error {
		return testbed.Register(srv, testbed.Handler{Log: seen, Behaviour: testbed.ByRequest}, services...)
	})
}

// unary is a unary method of a generated client.
type unary = func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)

// request is a request that the test process's server (testbed.ByRequest)
// fails the first fail attempts of, with code.
func request(t testing.TB, code triple_protocol.Code, fail uint32) *e2ev1.Request {
	return &e2ev1.Request{Id: testbed.WithCode(testbed.NewID(t.Name()), code), Fail: fail}
}

// unavailableRequests returns n requests, each of which the server fails
// the first fail attempts of with UNAVAILABLE, and their codes (for serve).
func unavailableRequests(t testing.TB, n int, fail uint32) ([]*e2ev1.Request, []triple_protocol.Code) {
	reqs := make([]*e2ev1.Request, n)
	codes := make([]triple_protocol.Code, n)
	for i := range reqs {
		reqs[i], codes[i] = request(t, unavailable, fail), unavailable
	}
	return reqs, codes
}

// callAll makes the calls of reqs from 8 goroutines, and returns their
// errors.
func callAll(method unary, reqs []*e2ev1.Request) []error {
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	const goroutines = 8
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < len(reqs); i += goroutines {
				_, errs[i] = method(context.Background(), reqs[i])
			}
		})
	}
	wg.Wait()
	return errs
}

// meter returns a MeterProvider whose metrics the test reads with the
// returned reader, and the option that gives it to a service.
func meter(t testing.TB) (*sdkmetric.ManualReader, client.ReferenceOption) {
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	return r, dubboretry.WithMeterProvider(mp)
}

// reading is what a ManualReader collected.
type reading struct{ rm metricdata.ResourceMetrics }

func collect(t testing.TB, r *sdkmetric.ManualReader) reading {
	t.Helper()
	var rd reading
	if err := r.Collect(context.Background(), &rd.rm); err != nil {
		t.Fatal(err)
	}
	return rd
}

// has reports whether set has every one of attrs.
func has(set attribute.Set, attrs []attribute.KeyValue) bool {
	for _, kv := range attrs {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// find returns the metric name, if it was collected.
func (rd reading) find(name string) (metricdata.Metrics, bool) {
	for _, sm := range rd.rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// counter returns the sum of the counter name over the points that have
// attrs.
func (rd reading) counter(t testing.TB, name string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := rd.find(name)
	if !ok {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok || !sum.IsMonotonic {
		t.Fatalf("%s is a %T, want a monotonic Sum[int64]", name, m.Data)
	}
	var n int64
	for _, p := range sum.DataPoints {
		if has(p.Attributes, attrs) {
			n += p.Value
		}
	}
	return n
}

// histogram returns the count and the sum of the histogram name over the
// points that have attrs, and the unit.
func (rd reading) histogram(t testing.TB, name string, attrs ...attribute.KeyValue) (count uint64, sum float64, unit string) {
	t.Helper()
	m, ok := rd.find(name)
	if !ok {
		return 0, 0, ""
	}
	switch h := m.Data.(type) {
	case metricdata.Histogram[float64]:
		for _, p := range h.DataPoints {
			if has(p.Attributes, attrs) {
				count += p.Count
				sum += p.Sum
			}
		}
	case metricdata.Histogram[int64]:
		for _, p := range h.DataPoints {
			if has(p.Attributes, attrs) {
				count += p.Count
				sum += float64(p.Sum)
			}
		}
	default:
		t.Fatalf("%s is a %T, want a histogram", name, m.Data)
	}
	return count, sum, m.Unit
}

// unit returns the unit of name.
func (rd reading) unit(name string) string {
	m, _ := rd.find(name)
	return m.Unit
}

// of returns the attributes of method of service.
func of(service, method string) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("rpc.service", service), attribute.String("rpc.method", method)}
}

// code returns attrs with rpc.grpc.status_code c.
func code(attrs []attribute.KeyValue, c int) []attribute.KeyValue {
	return append(attrs[:len(attrs):len(attrs)], attribute.Int("rpc.grpc.status_code", c))
}

// The instruments' names.
const (
	attemptStarted  = "dubboretry.client.attempt.started"
	attemptDuration = "dubboretry.client.attempt.duration"
	callDuration    = "dubboretry.client.call.duration"
	callRetries     = "dubboretry.client.call.retries"
	retryDelay      = "dubboretry.client.call.retry_delay"
	budgetExhausted = "dubboretry.client.budget.exhausted"
)
