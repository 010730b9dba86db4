package metrics

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.opentelemetry.io/otel"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// scrape returns what url serves, as text and parsed.
func scrape(t *testing.T, url string) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	var p expfmt.TextParser
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, body)
	}
	return string(body), families
}

// series returns the series of family name whose labels include labels.
func series(families map[string]*dto.MetricFamily, name string, labels map[string]string) []*dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
	var out []*dto.Metric
	for _, m := range f.Metric {
		n := 0
		for _, l := range m.Label {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				n++
			}
		}
		if n == len(labels) {
			out = append(out, m)
		}
	}
	return out
}

// What a person sees: the Prometheus exporter of OpenTelemetry's SDK,
// installed as the global MeterProvider after the service was created,
// serves the metrics on 127.0.0.1 over HTTP. An outage of
// SpareBudgetService (every attempt fails with UNAVAILABLE; a budget of
// ratio 0.1 and 10 a second) shows the attempts the server saw, all
// UNAVAILABLE, and the retries the budget refused: one per call that made
// fewer than its 4 attempts.
func TestPrometheusOutage(t *testing.T) {
	// Created first: the global provider's meters delegate to the one set
	// later.
	svc := testbed.Try(e2ev1.NewSpareBudgetService(testbed.Client(t))).Must(t)

	srv := testbed.Try(Serve("127.0.0.1:0")).Must(t)
	t.Cleanup(func() { srv.Close() })
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("serving at %s, want 127.0.0.1", srv.URL)
	}
	otel.SetMeterProvider(srv.Provider)

	const calls = 200
	s := outage(t, svc.Declared, calls)

	text, families := scrape(t, srv.URL)
	labels := map[string]string{"rpc_service": "e2e.v1.SpareBudgetService", "rpc_method": "Declared"}
	counter := func(name string, labels map[string]string) float64 {
		var v float64
		for _, m := range series(families, name, labels) {
			v += m.GetCounter().GetValue()
		}
		return v
	}
	histogram := func(name string, labels map[string]string) (count uint64, sum float64) {
		for _, m := range series(families, name, labels) {
			count += m.GetHistogram().GetSampleCount()
			sum += m.GetHistogram().GetSampleSum()
		}
		return count, sum
	}
	if got := counter("dubboretry_client_attempt_started_total", labels); got != float64(s.attempts) {
		t.Errorf("dubboretry_client_attempt_started_total: %v, want the %d attempts the server saw", got, s.attempts)
	}
	unavailableLabels := map[string]string{"rpc_service": "e2e.v1.SpareBudgetService", "rpc_method": "Declared", "rpc_grpc_status_code": "14"}
	if n, _ := histogram("dubboretry_client_attempt_duration_seconds", unavailableLabels); n != uint64(s.attempts) {
		t.Errorf("dubboretry_client_attempt_duration_seconds{rpc_grpc_status_code=14}: %d attempts, want %d", n, s.attempts)
	}
	if n, _ := histogram("dubboretry_client_attempt_duration_seconds", labels); n != uint64(s.attempts) {
		t.Errorf("dubboretry_client_attempt_duration_seconds: %d attempts of any code, want %d, all UNAVAILABLE", n, s.attempts)
	}
	if got := counter("dubboretry_client_budget_exhausted_total", labels); got != float64(s.short) || got == 0 {
		t.Errorf("dubboretry_client_budget_exhausted_total: %v, want the %d calls that made fewer than 4 attempts, and some", got, s.short)
	}
	if n, sum := histogram("dubboretry_client_call_retries", labels); n != calls || int(sum) != s.attempts-calls {
		t.Errorf("dubboretry_client_call_retries: %d calls, %v retries; want %d, %d", n, sum, calls, s.attempts-calls)
	}
	if n, _ := histogram("dubboretry_client_call_duration_seconds", labels); n != calls {
		t.Errorf("dubboretry_client_call_duration_seconds: %d calls, want %d", n, calls)
	}

	// For the README: the series, without the buckets.
	var sample []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "dubboretry_") && strings.Contains(line, "SpareBudgetService") && !strings.Contains(line, "_bucket{") {
			sample = append(sample, line)
		}
	}
	t.Logf("%d calls, %d attempts, %d retries refused; GET %s:\n%s", calls, s.attempts, s.short, srv.URL, strings.Join(sample, "\n"))
}
