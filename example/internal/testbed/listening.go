package testbed

import (
	"encoding/json"
	"net"
	"net/http"
	"runtime"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

// listening returns the local addresses of the TCP sockets this process
// listens on (childproc.Listening: Linux only, elsewhere none).
func listening() ([]string, error) {
	sockets, err := childproc.Listening()
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, s := range sockets {
		if s.Net == "tcp" {
			addrs = append(addrs, s.Addr)
		}
	}
	return addrs, nil
}

// serveListening answers with the addresses of listening, in JSON.
func serveListening(w http.ResponseWriter, _ *http.Request) {
	addrs, err := listening()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(addrs)
}

// CheckLoopbackOnly fails the test if p listens on any address but
// Loopback.
func (p *Provider) CheckLoopbackOnly(t testing.TB) {
	t.Helper()
	var addrs []string
	if err := get(p.HTTP, "listening", &addrs); err != nil {
		t.Fatalf("listening addresses of %s: %v", p.Name, err)
	}
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.Equal(net.ParseIP(Loopback)) {
			t.Errorf("%s listens on %s; every process must bind %s only", p.Name, a, Loopback)
		}
	}
	if runtime.GOOS == "linux" && len(addrs) == 0 {
		t.Errorf("%s listens nowhere, by /proc: the check is broken", p.Name)
	}
}
