package peers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	hedgev1 "github.com/dubbo-retry/protoc-gen-go-retry/bench/proto/hedge/v1"
)

// hedgeTail is the slow tail of a provider's hedge.v1.HedgeService: each
// attempt, with probability prob drawn from rand.New(rand.NewPCG(seed,
// index)), sleeps delay, unless its context ends first, and then answers;
// any other attempt answers at once. An attempt whose context has ended
// when it would answer fails instead (CANCELED, or DEADLINE_EXCEEDED):
// a response sent after the client gave up on the attempt would look like a
// success to a client that reads it.
//
// The draws are reproducible: the n-th attempt a provider receives after a
// reset is slow or not whatever the client does. Which call that attempt
// belongs to depends on the load balancer and the goroutines' timing.
type hedgeTail struct {
	mu       sync.Mutex
	rng      *rand.Rand
	index    uint32
	prob     float64
	delay    time.Duration
	counts   map[string]*HedgeCounts
	inFlight int
}

// HedgeCounts are what a provider counted of the attempts of one method
// since its last reset. Every slow attempt ends one way or the other:
// Slow = SlowCancelled + SlowAnswered.
type HedgeCounts struct {
	Attempts int64
	// Slow are the attempts that drew the slow tail.
	Slow int64
	// SlowCancelled are the slow attempts whose context ended before the
	// delay was over (or when it was): they failed, and did not answer.
	SlowCancelled int64
	// SlowAnswered are the slow attempts that slept the whole delay with
	// their context alive, and answered: the calls they won, and the losing
	// copies that nothing cancelled in time.
	SlowAnswered int64
	// FastCancelled are the attempts that were not slow whose context had
	// ended when they would have answered.
	FastCancelled int64
}

// add adds o to c.
func (c *HedgeCounts) add(o HedgeCounts) {
	c.Attempts += o.Attempts
	c.Slow += o.Slow
	c.SlowCancelled += o.SlowCancelled
	c.SlowAnswered += o.SlowAnswered
	c.FastCancelled += o.FastCancelled
}

// hedgeState is what a provider's /hedge/counts says.
type hedgeState struct {
	// Counts, by method.
	Counts map[string]HedgeCounts
	// InFlight are the attempts whose handler has not ended yet.
	InFlight int
}

// reset draws from a new source seeded with seed and index, makes an
// attempt slow with probability prob, for delay, and clears the counts.
func (h *hedgeTail) reset(seed uint64, index uint32, prob float64, delay time.Duration) error {
	if !(prob >= 0 && prob <= 1) || delay < 0 {
		return fmt.Errorf("slow probability %v, delay %v: want a probability from 0 to 1 and a delay of at least 0", prob, delay)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rng = rand.New(rand.NewPCG(seed, uint64(index)))
	h.index, h.prob, h.delay = index, prob, delay
	h.counts = map[string]*HedgeCounts{}
	return nil
}

// state returns the counts and the attempts in flight.
func (h *hedgeTail) state() hedgeState {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := hedgeState{Counts: map[string]HedgeCounts{}, InFlight: h.inFlight}
	for m, c := range h.counts {
		s.Counts[m] = *c
	}
	return s
}

// serve is an attempt of method.
func (h *hedgeTail) serve(ctx context.Context, method string, req *hedgev1.HedgeRequest) (*hedgev1.HedgeResponse, error) {
	h.mu.Lock()
	c := h.counts[method]
	if c == nil {
		c = new(HedgeCounts)
		h.counts[method] = c
	}
	c.Attempts++
	// Always draw, so that the n-th attempt is slow or not whatever the
	// probability of the others.
	slow := h.rng.Float64() < h.prob
	if slow {
		c.Slow++
	}
	delay, index := h.delay, h.index
	h.inFlight++
	h.mu.Unlock()

	if slow && delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	ended := ctx.Err() != nil

	h.mu.Lock()
	switch {
	case slow && ended:
		c.SlowCancelled++
	case slow:
		c.SlowAnswered++
	case ended:
		c.FastCancelled++
	}
	h.inFlight--
	h.mu.Unlock()

	if ended {
		code := triple_protocol.CodeCanceled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			code = triple_protocol.CodeDeadlineExceeded
		}
		return nil, triple_protocol.NewError(code, context.Cause(ctx))
	}
	return &hedgev1.HedgeResponse{Id: req.GetId(), Provider: index, Slow: slow}, nil
}

// HedgeServer serves hedge.v1.HedgeService over Triple (dubbo-go). It is
// exported because dubbo-go registers a handler under its type's name.
type HedgeServer struct{ h *hedgeTail }

func (s *HedgeServer) Plain(ctx context.Context, req *hedgev1.HedgeRequest) (*hedgev1.HedgeResponse, error) {
	return s.h.serve(ctx, "Plain", req)
}

func (s *HedgeServer) Fixed(ctx context.Context, req *hedgev1.HedgeRequest) (*hedgev1.HedgeResponse, error) {
	return s.h.serve(ctx, "Fixed", req)
}

func (s *HedgeServer) Adaptive(ctx context.Context, req *hedgev1.HedgeRequest) (*hedgev1.HedgeResponse, error) {
	return s.h.serve(ctx, "Adaptive", req)
}

// handleHedge adds the control endpoints of h to mux: POST /hedge/reset
// (seed, index, prob, delay) and GET /hedge/counts.
func handleHedge(mux *http.ServeMux, h *hedgeTail) {
	mux.HandleFunc("POST /hedge/reset", func(w http.ResponseWriter, r *http.Request) {
		seed, err1 := strconv.ParseUint(r.FormValue("seed"), 10, 64)
		index, err2 := strconv.ParseUint(r.FormValue("index"), 10, 32)
		prob, err3 := strconv.ParseFloat(r.FormValue("prob"), 64)
		delay, err4 := time.ParseDuration(r.FormValue("delay"))
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := h.reset(seed, uint32(index), prob, delay); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("GET /hedge/counts", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(h.state())
	})
}

// hedgeReset resets the slow tail of the provider whose control endpoint
// is addr.
func hedgeReset(addr string, seed uint64, index int, prob float64, delay time.Duration) error {
	return postControl(addr, "/hedge/reset", url.Values{
		"seed":  {strconv.FormatUint(seed, 10)},
		"index": {strconv.Itoa(index)},
		"prob":  {strconv.FormatFloat(prob, 'g', -1, 64)},
		"delay": {delay.String()},
	}, "hedge reset of "+addr)
}

// hedgeStateOf reads the counts of the provider whose control endpoint is
// addr.
func hedgeStateOf(addr string) (hedgeState, error) {
	var s hedgeState
	err := getControl(addr, "/hedge/counts", &s, "hedge counts")
	return s, err
}
