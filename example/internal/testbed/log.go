package testbed

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// A Log records when each attempt of each call arrived, by request id. A
// nil Log records nothing.
type Log struct {
	mu    sync.Mutex
	times map[string][]time.Time
}

func NewLog() *Log { return &Log{times: make(map[string][]time.Time)} }

// Add records an attempt of id, and returns its number: 1 in a nil Log.
func (l *Log) Add(id string) uint32 {
	if l == nil {
		return 1
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.times[id] = append(l.times[id], now)
	return uint32(len(l.times[id]))
}

// Attempts returns the attempts of id.
func (l *Log) Attempts(id string) uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return uint32(len(l.times[id]))
}

// Gaps returns the time between each attempt of id and the next.
func (l *Log) Gaps(id string) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.times[id]
	var out []time.Duration
	for i := 1; i < len(ts); i++ {
		out = append(out, ts[i].Sub(ts[i-1]))
	}
	return out
}

// Counts returns the attempts of every id.
func (l *Log) Counts() map[string]uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	counts := make(map[string]uint32, len(l.times))
	for id, ts := range l.times {
		counts[id] = uint32(len(ts))
	}
	return counts
}

// ServeHTTP answers with Counts, in JSON, for ReadAttempts.
func (l *Log) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	json.NewEncoder(w).Encode(l.Counts())
}
