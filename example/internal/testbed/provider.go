package testbed

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dubbo "dubbo.apache.org/dubbo-go/v3"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol"
	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
	publishv1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/publish/v1"
)

// A provider process is the running binary run again (StartChild) as the
// role "provider", which Main turns into a server (Serve) of the services
// its ProviderConfig names, on a free port of 127.0.0.1: for the tests that
// need several providers of one service (a process can export a service
// only once: "service already defined"), or providers that register. It
// serves, over HTTP on the same port, the attempts it has seen (/attempts)
// and the addresses it listens on (/listening), and says it is ready once
// it answers there (see readyPath).
const providerRole = "provider"

// ProviderApp is the application name every provider registers.
const ProviderApp = "testbed-provider"

// A ProviderConfig says what a provider process serves, and how.
type ProviderConfig struct {
	// Services names the services it serves (see Register).
	Services []string
	// Mode is the behaviour of its unary handlers (see Mode): "" for
	// ByRequest, "ok", "fail" or "flaky:SEED:PCT".
	Mode string `json:",omitempty"`
	// Registry, if set, is where it registers.
	Registry *Registry `json:",omitempty"`
	// ServerRetries, if set, is given to every service as
	// server.WithRetries, which publishes it on the service's URL.
	ServerRetries *int `json:",omitempty"`
	// MethodRetries gives methods retries of their own, with
	// server.WithMethod, by service ("LayerService") and method.
	MethodRetries map[string]map[string]int `json:",omitempty"`
	// Load makes a provider of PublishService alone, registered, register
	// it with publishv1.SetProviderPublishService and start with
	// dubbo.Load, as a program configured through dubbo.Load does, instead
	// of on a server of its own.
	Load bool `json:",omitempty"`
}

// A Provider is a provider process, as it says once it serves.
type Provider struct {
	Name string
	Addr string // its Triple address
	// HTTP is where it serves its attempts: Addr, but for a provider
	// started by dubbo.Load, which has no server to attach a handler to.
	HTTP string

	child *childproc.Child[Provider]
}

// StartProvider starts a provider process called name, and returns once
// it serves. It is stopped (and unregisters) when the test ends, unless
// killed first.
func StartProvider(t testing.TB, name string, cfg ProviderConfig) *Provider {
	t.Helper()
	p, err := startProvider(t, name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// StartProviders starts one provider of services per mode, in parallel,
// and returns once they all serve, or ends the test.
func StartProviders(t testing.TB, services []string, modes ...string) []*Provider {
	t.Helper()
	out := make([]*Provider, len(modes))
	errs := make([]error, len(modes))
	var wg sync.WaitGroup
	for i, mode := range modes {
		wg.Go(func() {
			out[i], errs[i] = startProvider(t, fmt.Sprintf("provider %d (%s)", i, mode), ProviderConfig{Services: services, Mode: mode})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func startProvider(t testing.TB, name string, cfg ProviderConfig) (*Provider, error) {
	c, err := StartChild[Provider](t, name, providerRole, cfg, 5*time.Minute)
	if err != nil {
		return nil, err
	}
	p, err := c.Next(60 * time.Second)
	if err != nil {
		c.Kill()
		return nil, err
	}
	p.Name, p.child = name, c
	return &p, nil
}

// Kill ends the provider with SIGKILL, as a crash would: it does not
// unregister.
func (p *Provider) Kill() { p.child.Kill() }

// get reads what the provider serving HTTP at addr serves at path, in
// JSON, into v.
func get(addr, path string, v any) error {
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + addr + "/" + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /%s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// ReadAttempts returns the attempts that the provider serving HTTP at addr
// (Provider.HTTP) has seen, by request id: for a process that has its
// address only.
func ReadAttempts(addr string) (map[string]uint32, error) {
	var counts map[string]uint32
	if err := get(addr, "attempts", &counts); err != nil {
		return nil, fmt.Errorf("attempts from %s: %v", addr, err)
	}
	return counts, nil
}

// Attempts returns the attempts p has seen, by request id.
func (p *Provider) Attempts(t testing.TB) map[string]uint32 {
	t.Helper()
	counts, err := ReadAttempts(p.HTTP)
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	return counts
}

// Counts returns the attempts each of providers has seen, by request id.
func Counts(t testing.TB, providers ...*Provider) []map[string]uint32 {
	t.Helper()
	out := make([]map[string]uint32, len(providers))
	for i, p := range providers {
		out[i] = p.Attempts(t)
	}
	return out
}

// URL returns the client URL that reaches providers directly.
func URL(providers []*Provider) string {
	urls := make([]string, len(providers))
	for i, p := range providers {
		urls[i] = "tri://" + p.Addr
	}
	return strings.Join(urls, ";")
}

// provide serves as cfg says, until the parent ends this process.
func provide(cfg ProviderConfig) error {
	b, err := Mode(cfg.Mode)
	if err != nil {
		return err
	}
	log := NewLog()
	mux := http.NewServeMux()
	mux.Handle("/attempts", log)
	mux.HandleFunc("/listening", serveListening)
	if cfg.Load {
		return provideWithLoad(cfg, log, mux)
	}

	var opts []ServeOption
	if cfg.Registry != nil {
		ins, err := dubbo.NewInstance(cfg.Registry.Instance(ProviderApp)...)
		if err != nil {
			return err
		}
		opts = append(opts, WithInstance(ins))
	}
	addr, stop, err := Serve(func(srv *server.Server) error {
		return RegisterWith(srv, Handler{Log: log, Behaviour: b}, cfg.serviceOptions, cfg.Services...)
	}, append(opts, WithHTTP(mux))...)
	if err != nil {
		return err
	}
	defer stop() // and unregister
	childproc.Say(Provider{Addr: addr, HTTP: addr})
	return childproc.WaitEnd()
}

// serviceOptions returns the options of the service called name.
func (cfg ProviderConfig) serviceOptions(name string) []server.ServiceOption {
	var opts []server.ServiceOption
	if cfg.ServerRetries != nil {
		opts = append(opts, server.WithRetries(*cfg.ServerRetries))
	}
	for method, n := range cfg.MethodRetries[name] {
		opts = append(opts, server.WithMethod(&global.MethodConfig{Name: method, Retries: strconv.Itoa(n)}))
	}
	return opts
}

// provideWithLoad serves PublishService as a program configured through
// dubbo.Load would: publishv1.SetProviderPublishService, then dubbo.Load
// with the instance's options, which creates the server and serves in the
// background. That server takes no HTTP handler, so the provider serves
// mux on a port of its own, and is ready once the Triple port accepts
// connections; its consumers wait for the registration.
func provideWithLoad(cfg ProviderConfig, log *Log, mux *http.ServeMux) error {
	if cfg.Registry == nil || len(cfg.Services) != 1 || cfg.Services[0] != "PublishService" || cfg.ServerRetries != nil || cfg.MethodRetries != nil {
		return fmt.Errorf("Load serves PublishService alone, registered, without options")
	}
	port, err := FreePort()
	if err != nil {
		return err
	}
	opts := append(cfg.Registry.Instance(ProviderApp),
		dubbo.WithProtocol(protocol.WithTriple(), protocol.WithIp(Loopback), protocol.WithPort(port)))
	ins, err := dubbo.NewInstance(opts...)
	if err != nil {
		return err
	}
	publishv1.SetProviderPublishService(&PublishServer{log})
	if err := dubbo.Load(dubbo.WithInstanceOptions(ins.GetInstanceOptionsSnapshot())); err != nil {
		return err
	}

	l, err := net.Listen("tcp", net.JoinHostPort(Loopback, "0"))
	if err != nil {
		return err
	}
	defer l.Close()
	go http.Serve(l, mux)

	addr := net.JoinHostPort(Loopback, strconv.Itoa(port))
	if err := Await(30*time.Second, 50*time.Millisecond, func() error { return Accepting(addr) }); err != nil {
		return err
	}
	childproc.Say(Provider{Addr: addr, HTTP: l.Addr().String()})
	return childproc.WaitEnd()
}
