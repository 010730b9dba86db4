// Package metrics shows the metrics of the runtime dubboretry to a person
// and to the tests: Serve records them with OpenTelemetry's SDK and serves
// them in Prometheus's text format, through OpenTelemetry's Prometheus
// exporter, on a loopback port. The SDK and the exporter are dependencies
// of the example module only: dubboretry records through OpenTelemetry's
// API.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// A Server serves the metrics of its MeterProvider at URL.
type Server struct {
	// Provider records the metrics: give it to otel.SetMeterProvider, or
	// to a service with dubboretry.WithMeterProvider.
	Provider *sdkmetric.MeterProvider
	// URL is where the metrics are served: http://127.0.0.1:PORT/metrics.
	URL string

	srv *http.Server
}

// Serve serves, at /metrics on addr, the metrics of a new MeterProvider
// whose reader is a Prometheus exporter with a registry of its own. addr
// must be a loopback address: "127.0.0.1:0" takes a free port.
func Serve(addr string) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics address %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("metrics address %q: want a loopback address, such as 127.0.0.1:0", addr)
	}
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s := &Server{
		Provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter)),
		URL:      "http://" + l.Addr().String() + "/metrics",
		srv:      &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
	}
	go s.srv.Serve(l)
	return s, nil
}

// Close stops serving, and shuts the provider down.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(s.srv.Shutdown(ctx), s.Provider.Shutdown(ctx))
}

// Series returns the lines of what s serves that are the runtime's series
// (dubboretry_…), without the histograms' buckets: the counters, and each
// histogram's _count and _sum.
func (s *Server) Series() ([]string, error) {
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Get(s.URL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", s.URL, resp.Status)
	}
	var out []string
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "dubboretry_") && !strings.Contains(line, "_bucket{") {
			out = append(out, line)
		}
	}
	return out, nil
}
