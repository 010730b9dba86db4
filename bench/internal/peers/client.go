package peers

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"dubbo.apache.org/dubbo-go/v3/client"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"

	peersv1 "github.com/dubbo-retry/protoc-gen-go-retry/bench/proto/peers/v1"
)

// The clients compared.
const (
	// Triple: the generated client (protoc-gen-go-retry), with the policy of
	// peers.proto: 3 retries of UNAVAILABLE, backoff 10 ms to 100 ms with
	// full jitter, a budget of ratio 0.1.
	clientTriple = "triple"
	// Triple, with dubboretry.WithoutBudget().
	clientTripleNoBudget = "triple-no-budget"
	// grpc-go with serviceConfig (round_robin, the same retry policy,
	// retryThrottling maxTokens 10, tokenRatio 0.1).
	clientGRPC = "grpc"
	// grpc-go with serviceConfig without retryThrottling.
	clientGRPCNoThrottling = "grpc-no-throttling"
)

// serviceConfig is the gRPC client's service config: the policy of
// peers.proto, in gRPC's terms, and round_robin over the providers.
func serviceConfig(throttling bool) string {
	cfg := `{
  "loadBalancingConfig": [{"round_robin": {}}],
  "methodConfig": [{
    "name": [{"service": "peers.v1.PeerService"}],
    "retryPolicy": {
      "maxAttempts": 4,
      "initialBackoff": "0.01s",
      "maxBackoff": "0.1s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]`
	if throttling {
		cfg += `,
  "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}`
	}
	return cfg + "\n}"
}

// A Phase is a part of a scenario: the providers' modes (one each, see
// faults), and the calls the client makes in it.
type Phase struct {
	Modes []string
	Calls int
	// Rate, if not 0, paces the calls: a ticker of Rate a second, shared by
	// the goroutines, lets each call start.
	Rate float64
}

// A job is what a client process does: a scenario's phases, one after the
// other, with a client, against the providers' Triple or gRPC servers.
type job struct {
	Client      string
	Servers     string // "triple" or "grpc"
	Method      string // "Call" or "CallTimed"
	Providers   []provider
	Phases      []Phase
	Goroutines  int
	Seed        uint64
	CallTimeout time.Duration
}

// A PhaseResult is what a phase of a job came to.
type PhaseResult struct {
	Calls     int
	Succeeded int
	// Attempts is the attempts the providers counted during the phase.
	Attempts int64
	// Failures counts the failed calls by code (UNAVAILABLE, ...), and
	// Errors holds the error of one of them for each code.
	Failures map[string]int
	Errors   map[string]string
	Elapsed  time.Duration
}

// AttemptsPerCall is Attempts / Calls.
func (r PhaseResult) AttemptsPerCall() float64 { return float64(r.Attempts) / float64(r.Calls) }

// SuccessRate is the percentage of the calls that succeeded.
func (r PhaseResult) SuccessRate() float64 { return 100 * float64(r.Succeeded) / float64(r.Calls) }

// callFunc makes call number id with the client of a job, and returns its
// error's code ("" for none) and its error.
type callFunc func(ctx context.Context, id uint64) (string, error)

// runClient is the job of the role "client" (clientRole): the results of
// the job's phases.
func runClient(ctx context.Context, j job) ([]PhaseResult, error) {
	call, closeClient, err := newCaller(j)
	if err != nil {
		return nil, err
	}
	defer closeClient()
	results := make([]PhaseResult, len(j.Phases))
	for i, ph := range j.Phases {
		if results[i], err = runPhase(ctx, j, i, ph, call); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// newCaller returns the client of j, as a callFunc, and what closes it.
func newCaller(j job) (callFunc, func(), error) {
	switch j.Client {
	case clientTriple, clientTripleNoBudget:
		if j.Servers != "triple" {
			return nil, nil, fmt.Errorf("the Triple client calls Triple servers only")
		}
		cli, err := newTripleClient(j.Providers)
		if err != nil {
			return nil, nil, err
		}
		var opts []client.ReferenceOption
		if j.Client == clientTripleNoBudget {
			opts = append(opts, dubboretry.WithoutBudget())
		}
		svc, err := peersv1.NewPeerService(cli, opts...)
		if err != nil {
			return nil, nil, err
		}
		return peerCaller(j.Method, svc.Call, svc.CallTimed, tripleCode), func() {}, nil

	case clientGRPC, clientGRPCNoThrottling:
		r := manual.NewBuilderWithScheme("peers")
		var state resolver.State
		for _, p := range j.Providers {
			addr := p.GRPC
			if j.Servers == "triple" {
				addr = p.Triple
			}
			state.Addresses = append(state.Addresses, resolver.Address{Addr: addr})
		}
		r.InitialState(state)
		conn, err := grpc.NewClient(r.Scheme()+":///peers",
			grpc.WithResolvers(r),
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithNoProxy(),
			grpc.WithDefaultServiceConfig(serviceConfig(j.Client == clientGRPC)),
		)
		if err != nil {
			return nil, nil, err
		}
		if err := awaitReady(conn); err != nil {
			conn.Close()
			return nil, nil, err
		}
		cli := peersv1.NewPeerServiceClient(conn)
		return peerCaller(j.Method, cli.Call, cli.CallTimed, grpcCode), func() { conn.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unknown client %q", j.Client)
}

// newTripleClient returns a dubbo-go client of the providers' Triple
// servers, which its load balancer picks from.
func newTripleClient(providers []provider) (*client.Client, error) {
	urls := make([]string, len(providers))
	for i, p := range providers {
		urls[i] = "tri://" + p.Triple
	}
	return client.NewClient(client.WithClientURL(strings.Join(urls, ";")))
}

// A peerMethod is a method of peers.v1.PeerService in a Triple client
// (O is client.CallOption) or in a gRPC one (grpc.CallOption).
type peerMethod[O any] func(context.Context, *peersv1.CallRequest, ...O) (*peersv1.CallResponse, error)

// peerCaller returns the callFunc that calls call, or callTimed if method
// is "CallTimed"; codeOf spells the code of an error as the client's
// protocol does.
func peerCaller[O any](method string, call, callTimed peerMethod[O], codeOf func(error) string) callFunc {
	if method == "CallTimed" {
		call = callTimed
	}
	return func(ctx context.Context, id uint64) (string, error) {
		_, err := call(ctx, &peersv1.CallRequest{Id: id})
		if err == nil {
			return "", nil
		}
		return codeName(codeOf(err)), err
	}
}

// tripleCode and grpcCode return the code of a Triple client's error, and
// of a gRPC client's.
func tripleCode(err error) string { return triple_protocol.CodeOf(err).String() }
func grpcCode(err error) string   { return status.Code(err).String() }

// awaitReady connects conn, and waits, 10 s at most, until round_robin has
// a connection to every provider it can have one to: until conn is READY,
// and a moment more for the other addresses.
func awaitReady(conn *grpc.ClientConn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn.Connect()
	for s := conn.GetState(); s != connectivity.Ready; s = conn.GetState() {
		if !conn.WaitForStateChange(ctx, s) {
			return fmt.Errorf("the gRPC client is not ready after 10 s: %v", s)
		}
	}
	time.Sleep(100 * time.Millisecond)
	return nil
}

// runPhase puts the providers in the phase's modes (which resets their
// counts), makes its calls from j.Goroutines goroutines, and reads the
// providers' counts.
func runPhase(ctx context.Context, j job, index int, ph Phase, call callFunc) (PhaseResult, error) {
	if len(ph.Modes) != len(j.Providers) {
		return PhaseResult{}, fmt.Errorf("phase %d: %d modes for %d providers", index, len(ph.Modes), len(j.Providers))
	}
	for i, p := range j.Providers {
		if err := control(p.Control, ph.Modes[i], j.Seed+uint64(100*index+i)); err != nil {
			return PhaseResult{}, err
		}
	}

	var tick <-chan time.Time
	if ph.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / ph.Rate))
		defer t.Stop()
		tick = t.C
	}
	codes := make([]string, ph.Calls)
	errs := make([]error, ph.Calls)
	start := time.Now()
	callConcurrently(ph.Calls, j.Goroutines, func(i int) {
		if tick != nil {
			<-tick
		}
		callCtx, cancel := context.WithTimeout(ctx, j.CallTimeout)
		codes[i], errs[i] = call(callCtx, uint64(i))
		cancel()
	})
	if err := ctx.Err(); err != nil {
		return PhaseResult{}, fmt.Errorf("phase %d of the job did not end within %v", index+1, jobTimeout)
	}
	res := PhaseResult{Calls: ph.Calls, Elapsed: time.Since(start)}
	res.Succeeded, res.Failures, res.Errors = tally(codes, errs)
	// Every attempt was sent before its call ended; let the last ones
	// reach their handlers.
	time.Sleep(50 * time.Millisecond)
	for _, p := range j.Providers {
		n, err := count(p.Control)
		if err != nil {
			return res, err
		}
		res.Attempts += n
	}
	return res, nil
}

// codeName writes a code as gRPC's documents name it: UNAVAILABLE,
// DEADLINE_EXCEEDED. Triple spells them "unavailable", "deadline_exceeded";
// grpc-go "Unavailable", "DeadlineExceeded".
func codeName(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
