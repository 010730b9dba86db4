package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	dubbo "dubbo.apache.org/dubbo-go/v3"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol"
	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/handlers"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/proc"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
	publishv1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/publish/v1"
)

// providerApp is the application name every provider registers.
const providerApp = "registrytest-provider"

// providerConfig configures a provider process.
type providerConfig struct {
	Registry reg
	// Serve names the services the provider serves: "" for LayerService,
	// PlainService, GuardedService and FileDefaultService (e2e/v1),
	// serveTimeouts or servePublish.
	Serve string `json:",omitempty"`
	// Load makes a servePublish provider register PublishService with
	// publishv1.SetProviderPublishService and start with dubbo.Load,
	// instead of RegisterPublishServiceHandler on a server of its own.
	Load bool `json:",omitempty"`
	// ServerRetries, if set, is given to every service as
	// server.WithRetries, which publishes it on the service's URL.
	ServerRetries *int `json:",omitempty"`
	// MethodRetries gives methods retries of their own, with
	// server.WithMethod, by service ("LayerService") and method.
	MethodRetries map[string]map[string]int `json:",omitempty"`
}

// The services a provider serves, besides the default.
const (
	// serveTimeouts: TimeoutService, ServiceTimeoutService and
	// NoTimeoutService of e2e/v1.
	serveTimeouts = "timeouts"
	// servePublish: publish.v1.PublishService.
	servePublish = "publish"
)

// ready is the message a provider prints once it serves, and is
// registered.
type ready struct {
	Tri string // the Triple address, where it also serves /registrytest/
	// HTTP, if set, is where it serves /registrytest/ instead: a provider
	// started by dubbo.Load has no server to attach a handler to.
	HTTP string `json:",omitempty"`
}

// counts returns the address where the provider serves the attempts it
// has seen.
func (r ready) counts() string {
	if r.HTTP != "" {
		return r.HTTP
	}
	return r.Tri
}

// A provider is a provider process, serving the services of its
// providerConfig.Serve.
type provider struct {
	*child
	ready
}

// startProvider starts a provider process, and returns once it serves. It
// is stopped (and unregisters) when the test ends, unless killed first.
func startProvider(t testing.TB, name string, cfg providerConfig) *provider {
	t.Helper()
	c := startChild(t, "provider "+name, "provider", cfg, 5*time.Minute)
	m := c.next(60 * time.Second)
	if m.Ready == nil {
		t.Fatalf("provider %s said %+v, want ready", name, m)
	}
	return &provider{c, *m.Ready}
}

// attempts returns the attempts p has seen, by request id.
func (p *provider) attempts(t testing.TB) map[string]uint32 {
	t.Helper()
	seen, err := fetchAttempts(p.counts())
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	return seen
}

// fetchAttempts returns the attempts the provider at addr has seen, by
// request id.
func fetchAttempts(addr string) (map[string]uint32, error) {
	return handlers.ReadCounts("http://" + addr + "/registrytest/attempts")
}

// provide serves the services cfg.Serve names on a free port of
// 127.0.0.1, registered in cfg.Registry, and the attempts it has seen over
// HTTP, until standard input closes.
func provide(cfg providerConfig) error {
	port, err := proc.FreePort()
	if err != nil {
		return err
	}
	seen := handlers.NewLog()
	if cfg.Load {
		if cfg.Serve != servePublish || cfg.ServerRetries != nil || cfg.MethodRetries != nil {
			return fmt.Errorf("Load serves %q only, without options", servePublish)
		}
		return provideWithLoad(cfg, port, seen)
	}
	ins, err := dubbo.NewInstance(cfg.Registry.instance(providerApp)...)
	if err != nil {
		return err
	}
	srv, err := ins.NewServer(server.WithServerProtocol(
		protocol.WithTriple(),
		protocol.WithIp(loopbackIP),
		protocol.WithPort(port),
	))
	if err != nil {
		return err
	}
	opts := func(service string) []server.ServiceOption {
		var opts []server.ServiceOption
		if cfg.ServerRetries != nil {
			opts = append(opts, server.WithRetries(*cfg.ServerRetries))
		}
		for method, n := range cfg.MethodRetries[service] {
			opts = append(opts, server.WithMethod(&global.MethodConfig{Name: method, Retries: strconv.Itoa(n)}))
		}
		return opts
	}
	switch cfg.Serve {
	case "":
		// A call fails its first req.Fail attempts with CodeUnavailable,
		// which dubbo-go retries, and then answers with the attempts seen.
		u := handlers.Unary{Log: seen, Behaviour: handlers.ByRequest}
		err = errors.Join(
			e2ev1.RegisterLayerServiceHandler(srv, &handlers.LayerServer{Unary: u}, opts("LayerService")...),
			e2ev1.RegisterPlainServiceHandler(srv, &handlers.PlainServer{Unary: u}, opts("PlainService")...),
			e2ev1.RegisterGuardedServiceHandler(srv, &handlers.GuardedServer{Unary: u}, opts("GuardedService")...),
			e2ev1.RegisterFileDefaultServiceHandler(srv, &handlers.FileDefaultServer{Unary: u}, opts("FileDefaultService")...),
			e2ev1.RegisterFaultServiceHandler(srv, &handlers.FaultServer{Unary: u}, opts("FaultService")...),
		)
	case serveTimeouts:
		s := handlers.Slow{Log: seen}
		err = errors.Join(
			e2ev1.RegisterTimeoutServiceHandler(srv, &handlers.TimeoutServer{Slow: s}, opts("TimeoutService")...),
			e2ev1.RegisterServiceTimeoutServiceHandler(srv, &handlers.ServiceTimeoutServer{Slow: s}, opts("ServiceTimeoutService")...),
			e2ev1.RegisterNoTimeoutServiceHandler(srv, &handlers.NoTimeoutServer{Slow: s}, opts("NoTimeoutService")...),
		)
	case servePublish:
		err = publishv1.RegisterPublishServiceHandler(srv, &PublishServer{seen}, opts("PublishService")...)
	default:
		err = fmt.Errorf("no services %q to serve", cfg.Serve)
	}
	if err != nil {
		return err
	}

	// The test reads the attempts, and the addresses the process listens
	// on, over HTTP on the Triple port. dubbo-go mounts an attached handler
	// only once it has registered the provider, so an answer also tells that
	// the registration is over. (With the default registration, dubbo-go
	// registers an instance once per exported service, deleting and creating
	// the same node each time: a consumer that looks meanwhile sees no
	// provider.)
	if err := srv.AttachHTTPHandler(mux(seen)); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.ServeContext(ctx) }()
	tri := net.JoinHostPort(loopbackIP, strconv.Itoa(port))
	hc := &http.Client{Timeout: 5 * time.Second}
	if err := proc.Await(30*time.Second, 50*time.Millisecond, func() error {
		select {
		case err := <-served:
			return proc.Gone(fmt.Errorf("the server stopped: %v", err))
		default:
		}
		resp, err := hc.Get("http://" + tri + "/registrytest/listening")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /registrytest/listening: %s", resp.Status)
		}
		return nil
	}); err != nil {
		return err
	}

	say(message{Ready: &ready{Tri: tri}})
	proc.WaitEnd()
	// Unregister, for at most 10 s.
	cancel()
	select {
	case <-served:
	case <-time.After(10 * time.Second):
	}
	return nil
}

// mux serves the attempts seen has logged at /registrytest/attempts, and
// the addresses the process listens on at /registrytest/listening.
func mux(seen *handlers.Log) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/registrytest/attempts", seen)
	mux.HandleFunc("/registrytest/listening", serveListening)
	return mux
}
