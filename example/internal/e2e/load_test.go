package e2e

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/precedence"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// TestLoadOfRandomFailures makes 10,000 calls, each of which fails a
// random number k of attempts (0 to 6, from a fixed seed) before it
// succeeds, over the calls of the precedence table, whose layers give them
// r retries from 0 to 5. A
// call must succeed exactly when k <= r, after min(k, r) + 1 attempts, and
// the server must see those attempts and no others.
//
// The calls go through a fixed pool of workers and share one deadline, so
// the test ends by itself however dubbo-go behaves.
func TestLoadOfRandomFailures(t *testing.T) {
	const (
		seed    = 20240601
		workers = 16
		maxFail = 6
	)
	calls := 10000
	if testing.Short() {
		calls = 1000
	}
	cases := layerCases(t)

	type job struct {
		c    precedence.Bound
		id   string
		fail uint32
		// What happened.
		resp *e2ev1.Response
		err  error
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	jobs := make([]job, calls)
	for i := range jobs {
		jobs[i] = job{
			c:    cases[rng.IntN(len(cases))],
			id:   newID(t),
			fail: uint32(rng.IntN(maxFail + 1)),
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := &jobs[i]
				j.resp, j.err = j.c.Do(ctx, &e2ev1.Request{Id: j.id, Fail: j.fail})
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)

	var succeeded, mismatches int
	var want uint64
	for _, j := range jobs {
		attemptsWant := min(j.fail, j.c.Retries) + 1
		want += uint64(attemptsWant)
		got := attempts.Attempts(j.id)
		var problem string
		switch {
		case got != attemptsWant:
			problem = "wrong attempts"
		case j.fail <= j.c.Retries && j.err != nil:
			problem = "failed within its retries: " + j.err.Error()
		case j.fail <= j.c.Retries && (j.resp.Id != j.id || j.resp.Attempts != attemptsWant):
			problem = "answered for another call or attempt"
		case j.fail > j.c.Retries && triple_protocol.CodeOf(j.err) != triple_protocol.CodeUnavailable:
			problem = "did not fail with CodeUnavailable after its retries"
		}
		if j.err == nil {
			succeeded++
		}
		if problem == "" {
			continue
		}
		if mismatches++; mismatches <= 10 {
			t.Errorf("%s (%s, fails %d, retries %d): %s; the server saw %d attempts, want %d",
				j.id, j.c.Name(), j.fail, j.c.Retries, problem, got, attemptsWant)
		}
	}

	// Nothing lost and nothing extra: the server saw exactly these calls,
	// and exactly the attempts they add up to.
	ids, total := byPrefix(attempts.Counts(), t.Name()+"#")
	if ids != calls || total != want {
		t.Errorf("the server saw %d calls and %d attempts, want %d and %d", ids, total, calls, want)
	}
	if mismatches > 0 {
		t.Errorf("%d of %d calls went wrong", mismatches, calls)
	}
	t.Logf("%d calls (%d succeeded, %d failed), %d attempts, %d mismatches, %v with %d workers",
		calls, succeeded, calls-succeeded, total, mismatches, elapsed.Round(time.Millisecond), workers)
}

// byPrefix returns how many request ids of counts start with prefix, and
// their attempts in total.
func byPrefix(counts map[string]uint32, prefix string) (ids int, total uint64) {
	for id, n := range counts {
		if strings.HasPrefix(id, prefix) {
			ids++
			total += uint64(n)
		}
	}
	return ids, total
}
