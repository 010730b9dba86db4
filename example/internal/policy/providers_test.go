package policy

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/loopback"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// providerEnv, when set, makes the test binary a provider instead of
// running the tests. Its value is the provider's mode:
//
//	ok               every attempt succeeds
//	fail             every attempt fails with UNAVAILABLE
//	flaky:SEED:PCT   an attempt fails with UNAVAILABLE with probability
//	                 PCT/100, drawn from rand.New(rand.NewPCG(SEED, SEED))
const providerEnv = "POLICY_TEST_PROVIDER"

// ready starts the line a provider prints once it serves.
const ready = "policy provider ready"

// behaviourOf returns the behaviour of a provider's mode.
func behaviourOf(mode string) (behaviour, error) {
	unavailable := func(req *e2ev1.Request, n uint32) error {
		return triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("attempt %d of %s fails here", n, req.Id))
	}
	switch {
	case mode == "ok":
		return func(*e2ev1.Request, uint32) error { return nil }, nil
	case mode == "fail":
		return unavailable, nil
	case strings.HasPrefix(mode, "flaky:"):
		var seed uint64
		var pct float64
		if _, err := fmt.Sscanf(mode, "flaky:%d:%g", &seed, &pct); err != nil {
			return nil, fmt.Errorf("mode %q: %v", mode, err)
		}
		var mu sync.Mutex
		r := rand.New(rand.NewPCG(seed, seed))
		return func(req *e2ev1.Request, n uint32) error {
			mu.Lock()
			fail := r.Float64() < pct/100
			mu.Unlock()
			if fail {
				return unavailable(req, n)
			}
			return nil
		}, nil
	}
	return nil, fmt.Errorf("unknown mode %q", mode)
}

// provide serves the services of register in mode on a free loopback port,
// and the attempts it has seen over HTTP, until standard input closes.
func provide(mode string) error {
	b, err := behaviourOf(mode)
	if err != nil {
		return err
	}
	tri, stop, err := loopback.Serve(func(srv *server.Server) error { return register(srv, b) })
	if err != nil {
		return err
	}
	defer stop()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		seen.mu.Lock()
		counts := make(map[string]int, len(seen.times))
		for id, ts := range seen.times {
			counts[id] = len(ts)
		}
		seen.mu.Unlock()
		json.NewEncoder(w).Encode(counts)
	}))

	fmt.Printf("%s tri=%s http=%s\n", ready, tri, l.Addr())
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// A provider is a child process serving the services of register.
type provider struct {
	tri  string // the Triple address
	http string // the address of its attempt counts
}

// startProviders starts one provider per mode, in parallel, and stops
// them when the test ends.
func startProviders(t *testing.T, modes ...string) []*provider {
	t.Helper()
	out := make([]*provider, len(modes))
	errs := make([]error, len(modes))
	var wg sync.WaitGroup
	for i, mode := range modes {
		wg.Go(func() { out[i], errs[i] = startProvider(t, mode) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// startProvider runs the test binary as a provider in mode.
func startProvider(t *testing.T, mode string) (*provider, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), providerEnv+"="+mode)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// The provider serves until its standard input closes: when the test
	// ends, or if the test process dies without ending it.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}

	lines := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		// Read all of stdout, which Wait requires before it is called.
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), ready) {
				lines <- s.Text()
			}
		}
		exited <- cmd.Wait()
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			stdin.Close()
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
	}
	t.Cleanup(stop)

	var line string
	select {
	case line = <-lines:
	case err := <-exited:
		exited <- err // for stop
		return nil, fmt.Errorf("provider %q exited before it served: %v\n%s", mode, err, stderr.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		stop()
		return nil, fmt.Errorf("provider %q did not serve within 30s:\n%s", mode, stderr.String())
	}
	p := new(provider)
	if _, err := fmt.Sscanf(strings.TrimPrefix(line, ready), " tri=%s http=%s", &p.tri, &p.http); err != nil {
		return nil, fmt.Errorf("provider %q: %q: %v", mode, line, err)
	}
	return p, nil
}

// counts returns the attempts each of providers has seen, by request id.
func counts(t *testing.T, providers ...*provider) []map[string]int {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	out := make([]map[string]int, len(providers))
	for i, p := range providers {
		resp, err := hc.Get("http://" + p.http + "/attempts")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&out[i])
		resp.Body.Close()
		if err != nil {
			t.Fatalf("attempts of %s: %v", p.tri, err)
		}
	}
	return out
}

// total returns the attempts of ids over all of counts.
func total(counts []map[string]int, ids []string) int {
	n := 0
	for _, c := range counts {
		for _, id := range ids {
			n += c[id]
		}
	}
	return n
}

// clientOf returns a client that reaches providers directly.
func clientOf(t *testing.T, providers []*provider) *client.Client {
	t.Helper()
	urls := make([]string, len(providers))
	for i, p := range providers {
		urls[i] = "tri://" + p.tri
	}
	return try(client.NewClient(client.WithClientURL(strings.Join(urls, ";")))).must(t)
}
