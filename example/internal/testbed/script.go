package testbed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// A request whose id carries a script (Script) has every attempt of the
// call, across all providers, play the step of its number: fail, answer,
// sleep, or wait until its context ends, recording that it did.

// A Step is what one attempt of a scripted call does (Script).
type Step string

const (
	// Answer answers at once.
	Answer Step = "answer"
	// Hang waits until the attempt's context ends (the client cancels it,
	// or its deadline passes), records that it did (EndedKey), and fails.
	Hang Step = "hang"
	// FailBusiness fails at once with a plain error, which the client sees
	// as a business error.
	FailBusiness Step = "business"
)

// SleepThenAnswer sleeps for d, then answers; if the attempt's context
// ends first, it records that it did (EndedKey), and fails.
func SleepThenAnswer(d time.Duration) Step {
	return Step("sleep:" + d.String())
}

// FailWith fails at once with code.
func FailWith(code triple_protocol.Code) Step {
	return Step("fail:" + code.String())
}

// scriptMark separates a request id from its script.
const scriptMark = ";script="

// Script returns id with a script: attempt n of the call, counted over
// every provider that serves it in the order they arrive, plays steps[n-1]
// (Answer beyond the last). The providers count through files in dir,
// which they share: the test processes and the providers they start run
// on one machine. A scripted attempt answers with its number over all
// providers as Response.Attempts, and each provider logs, besides the
// call's id, AttemptKey(id, n) for each attempt n it served and
// EndedKey(id, n, why) for each whose context ended while it waited.
// The script wins over the provider's Behaviour.
func Script(id, dir string, steps ...Step) string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = string(s)
	}
	return id + scriptMark + strings.Join(names, ",") + "@" + dir
}

// AttemptKey is the key under which a provider logs that it served
// attempt n of the scripted call id.
func AttemptKey(id string, n uint32) string {
	return id + "/attempt=" + strconv.FormatUint(uint64(n), 10)
}

// EndedKey is the key under which a provider logs that the context of
// attempt n of the scripted call id ended while the attempt waited: why is
// "canceled" or "deadline".
func EndedKey(id string, n uint32, why string) string {
	return AttemptKey(id, n) + "/ended=" + why
}

// Why a scripted attempt's context ended, as EndedKey records it.
const (
	EndedCanceled = "canceled"
	EndedDeadline = "deadline"
)

type script struct {
	steps []Step
	dir   string
}

// scriptOf returns the script an id carries.
func scriptOf(id string) (script, bool) {
	_, text, ok := strings.Cut(id, scriptMark)
	if !ok {
		return script{}, false
	}
	steps, dir, ok := strings.Cut(text, "@")
	if !ok || dir == "" {
		panic(fmt.Sprintf("request id %q: a script without a directory", id))
	}
	var s script
	s.dir = dir
	for name := range strings.SplitSeq(steps, ",") {
		if name != "" {
			s.steps = append(s.steps, Step(name))
		}
	}
	return s, true
}

// claim returns the number of this attempt of the call id over every
// provider: the first n for which this process creates the file of n.
func (s script) claim(id string) (uint32, error) {
	sum := sha256.Sum256([]byte(id))
	base := filepath.Join(s.dir, hex.EncodeToString(sum[:8]))
	for n := uint32(1); ; n++ {
		f, err := os.OpenFile(base+"."+strconv.FormatUint(uint64(n), 10), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			return n, f.Close()
		}
		if !errors.Is(err, fs.ErrExist) {
			return 0, err
		}
	}
}

// play plays the step of this attempt of the call req.
func (s script) play(ctx context.Context, log *Log, req *e2ev1.Request) (*e2ev1.Response, error) {
	n, err := s.claim(req.Id)
	if err != nil {
		return nil, triple_protocol.NewError(triple_protocol.CodeInternal, fmt.Errorf("numbering the attempt: %v", err))
	}
	log.Add(AttemptKey(req.Id, n))
	step := Answer
	if int(n) <= len(s.steps) {
		step = s.steps[n-1]
	}
	// wait waits for d (forever if d < 0), or until ctx ends: then it
	// records why, and returns the error the attempt fails with.
	wait := func(d time.Duration) error {
		var timer <-chan time.Time
		if d >= 0 {
			t := time.NewTimer(d)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-timer:
			return nil
		case <-ctx.Done():
			why, code := EndedCanceled, triple_protocol.CodeCanceled
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				why, code = EndedDeadline, triple_protocol.CodeDeadlineExceeded
			}
			log.Add(EndedKey(req.Id, n, why))
			// A response now would read as a success to the client.
			return triple_protocol.NewError(code, fmt.Errorf("attempt %d of %s: %v", n, req.Id, ctx.Err()))
		}
	}
	kind, arg, _ := strings.Cut(string(step), ":")
	switch Step(kind) {
	case Answer:
	case Hang:
		if err := wait(-1); err != nil {
			return nil, err
		}
	case "sleep":
		d, perr := time.ParseDuration(arg)
		if perr != nil {
			panic(fmt.Sprintf("request id %q: step %q: %v", req.Id, step, perr))
		}
		if err := wait(d); err != nil {
			return nil, err
		}
	case FailBusiness:
		return nil, fmt.Errorf("attempt %d of %s: business failure", n, req.Id)
	case "fail":
		var c triple_protocol.Code
		if perr := c.UnmarshalText([]byte(arg)); perr != nil {
			panic(fmt.Sprintf("request id %q: step %q: %v", req.Id, step, perr))
		}
		return nil, triple_protocol.NewError(c, fmt.Errorf("attempt %d of %s fails", n, req.Id))
	default:
		panic(fmt.Sprintf("request id %q: unknown step %q", req.Id, step))
	}
	return &e2ev1.Response{Id: req.Id, Attempts: n}, nil
}
