package peers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dubbo "dubbo.apache.org/dubbo-go/v3"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"
	"github.com/dubbogo/gost/log/logger"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	hedgev1 "github.com/dubbo-retry/protoc-gen-go-retry/bench/proto/hedge/v1"
	peersv1 "github.com/dubbo-retry/protoc-gen-go-retry/bench/proto/peers/v1"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

// The faults a provider injects, by mode:
//
//	ok          every attempt succeeds
//	fail        every attempt fails with UNAVAILABLE, at once (an outage)
//	flaky:PCT   each attempt fails with UNAVAILABLE with probability PCT/100,
//	            drawn from rand.New(rand.NewPCG(seed, seed))
//	slow:MS     each attempt sleeps MS milliseconds, then succeeds (a
//	            response the client, which has cut the attempt, never reads)
//	slowcut:MS  each attempt takes MS milliseconds, then succeeds; but an
//	            attempt whose context ends first fails then with
//	            DEADLINE_EXCEEDED, as a handler that honours the deadline
//	            the client sent does
type faults struct {
	attempts atomic.Int64

	mu     sync.Mutex
	fail   float64 // the probability that an attempt fails
	delay  time.Duration
	honour bool // whether a slow attempt ends with its context
	rng    *rand.Rand
}

// set puts f in mode, with seed for its random draws, and resets its count
// of attempts.
func (f *faults) set(mode string, seed uint64) error {
	var fail float64
	var delay time.Duration
	name, arg, _ := strings.Cut(mode, ":")
	switch name {
	case "ok":
	case "fail":
		fail = 1
	case "flaky":
		pct, err := strconv.ParseFloat(arg, 64)
		if err != nil || pct < 0 || pct > 100 {
			return fmt.Errorf("mode %q: want flaky:PCT, PCT from 0 to 100", mode)
		}
		fail = pct / 100
	case "slow", "slowcut":
		ms, err := strconv.Atoi(arg)
		if err != nil || ms < 0 {
			return fmt.Errorf("mode %q: want %s:MS", mode, name)
		}
		delay = time.Duration(ms) * time.Millisecond
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.delay, f.honour = fail, delay, name == "slowcut"
	f.rng = rand.New(rand.NewPCG(seed, seed))
	f.attempts.Store(0)
	return nil
}

// The outcomes of an attempt.
type outcome int

const (
	succeed outcome = iota
	unavailable
	cut // its context ended while it was slow
)

// attempt counts an attempt and decides its outcome.
func (f *faults) attempt(ctx context.Context) outcome {
	f.attempts.Add(1)
	f.mu.Lock()
	fail := f.fail > 0 && (f.fail >= 1 || f.rng.Float64() < f.fail)
	delay, honour := f.delay, f.honour
	f.mu.Unlock()
	switch {
	case fail:
		return unavailable
	case delay > 0 && honour:
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return cut
		}
	case delay > 0:
		time.Sleep(delay)
	}
	return succeed
}

// PeerServer serves peers.v1.PeerService, with the faults of f, over
// Triple (dubbo-go) or over gRPC (grpc-go): failure writes an attempt that
// fails as the protocol's error (tripleFailure, grpcFailure). It is
// exported because dubbo-go registers a handler under its type's name, and
// embeds what grpc-go requires of a server.
type PeerServer struct {
	peersv1.UnimplementedPeerServiceServer
	f       *faults
	failure func(ctx context.Context, o outcome) error
}

func (s *PeerServer) Call(ctx context.Context, req *peersv1.CallRequest) (*peersv1.CallResponse, error) {
	return s.serve(ctx, req)
}

func (s *PeerServer) CallTimed(ctx context.Context, req *peersv1.CallRequest) (*peersv1.CallResponse, error) {
	return s.serve(ctx, req)
}

func (s *PeerServer) serve(ctx context.Context, req *peersv1.CallRequest) (*peersv1.CallResponse, error) {
	if o := s.f.attempt(ctx); o != succeed {
		return nil, s.failure(ctx, o)
	}
	return &peersv1.CallResponse{Id: req.GetId()}, nil
}

// tripleFailure is the Triple error of an attempt that fails with o: an
// error with a code, which dubbo-go retries, where a plain error would be
// a business error, never retried.
func tripleFailure(ctx context.Context, o outcome) error {
	if o == cut {
		return triple_protocol.NewError(triple_protocol.CodeDeadlineExceeded, context.Cause(ctx))
	}
	return triple_protocol.NewError(triple_protocol.CodeUnavailable, errors.New("the provider is unavailable"))
}

// grpcFailure is the gRPC status of an attempt that fails with o.
func grpcFailure(ctx context.Context, o outcome) error {
	if o == cut {
		return status.Error(codes.DeadlineExceeded, context.Cause(ctx).Error())
	}
	return status.Error(codes.Unavailable, "the provider is unavailable")
}

// A provider is a provider process, as it says once it serves: the same
// service, with the same faults and one count of attempts, over Triple and
// over gRPC, and an HTTP endpoint that sets its mode and reads its count.
// Its Triple server also serves hedge.v1.HedgeService, with a slow tail and
// counts of its own (hedgeTail), which the endpoint resets and reads too.
type provider struct {
	Triple  string // host:port of the Triple server
	GRPC    string // host:port of the gRPC server
	Control string // host:port of the control endpoint
	// Listeners are the sockets the process listens on (Linux only).
	Listeners []childproc.Socket
}

// loopback is the one address every server of the comparison binds.
const loopback = "127.0.0.1"

// runProvider is the role "provider": it serves until its parent ends it.
func runProvider(string) error {
	// dubbo-go logs each failed attempt; the comparison fails thousands.
	logger.SetLoggerLevel("fatal")
	f := new(faults)
	if err := f.set("ok", 0); err != nil {
		return err
	}

	// Triple, with dubbo-go, on a free port of 127.0.0.1.
	port, err := freePort()
	if err != nil {
		return err
	}
	// With dubbo-go's default, local metadata, a server also serves a
	// MetadataService, on a random port of every interface (it gives that
	// service no IP). Remote metadata turns it off; there is no registry,
	// so nothing is reported anywhere.
	ins, err := dubbo.NewInstance(dubbo.WithName("peers-provider"), dubbo.WithRemoteMetadata())
	if err != nil {
		return err
	}
	srv, err := ins.NewServer(server.WithServerProtocol(
		protocol.WithTriple(),
		protocol.WithIp(loopback),
		protocol.WithPort(port),
	))
	if err != nil {
		return err
	}
	if err := peersv1.RegisterPeerServiceHandler(srv, &PeerServer{f: f, failure: tripleFailure}); err != nil {
		return err
	}
	// The service of the hedging measurement (cmd/hedge), with its own
	// slow tail and counts.
	h := new(hedgeTail)
	if err := h.reset(0, 0, 0, 0); err != nil {
		return err
	}
	if err := hedgev1.RegisterHedgeServiceHandler(srv, &HedgeServer{h}); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.ServeContext(ctx) }()
	tri := net.JoinHostPort(loopback, strconv.Itoa(port))
	if err := awaitAccepting(tri, served); err != nil {
		return err
	}

	// gRPC, with grpc-go.
	gl, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
	if err != nil {
		return err
	}
	gs := grpc.NewServer()
	peersv1.RegisterPeerServiceServer(gs, &PeerServer{f: f, failure: grpcFailure})
	go gs.Serve(gl)
	defer gs.Stop()

	// The control endpoint.
	cl, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /mode", func(w http.ResponseWriter, r *http.Request) {
		seed, _ := strconv.ParseUint(r.FormValue("seed"), 10, 64)
		if err := f.set(r.FormValue("m"), seed); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("GET /count", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(f.attempts.Load())
	})
	handleHedge(mux, h)
	hs := &http.Server{Handler: mux}
	go hs.Serve(cl)
	defer hs.Close()

	ls, err := childproc.Listening()
	if err != nil {
		return err
	}
	childproc.Say(provider{Triple: tri, GRPC: gl.Addr().String(), Control: cl.Addr().String(), Listeners: ls})
	childproc.WaitEnd()
	cancel()
	// dubbo-go's graceful shutdown may take its time: the process ends
	// anyway, a second later at most.
	select {
	case <-served:
	case <-time.After(time.Second):
	}
	return nil
}

// freePort returns a port of 127.0.0.1 that nothing listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// awaitAccepting waits, 30 s at most, until something accepts connections
// on addr, or the server stops (served).
func awaitAccepting(addr string, served <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-served:
			return fmt.Errorf("the Triple server on %s stopped: %v", addr, err)
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing accepts connections on %s after 30 s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// controlClient reaches the providers' control endpoints: directly (no
// proxy from the environment), and never for long.
var controlClient = &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}

// postControl posts form to path on the control endpoint addr; what names
// the request in its error.
func postControl(addr, path string, form url.Values, what string) error {
	resp, err := controlClient.PostForm("http://"+addr+path, form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s: %s", what, resp.Status, b)
	}
	return nil
}

// getControl decodes what path on the control endpoint addr says, in JSON,
// into v; what names it in its error.
func getControl(addr, path string, v any, what string) error {
	resp, err := controlClient.Get("http://" + addr + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s from %s: %v", what, addr, err)
	}
	return nil
}

// control sets the mode of the provider whose control endpoint is addr,
// and resets its count.
func control(addr, mode string, seed uint64) error {
	return postControl(addr, "/mode", url.Values{"m": {mode}, "seed": {strconv.FormatUint(seed, 10)}}, fmt.Sprintf("mode %q", mode))
}

// count returns the attempts the provider whose control endpoint is addr
// has counted since its mode was last set.
func count(addr string) (int64, error) {
	var n int64
	err := getControl(addr, "/count", &n, "count")
	return n, err
}
