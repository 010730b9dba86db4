package dubboretry

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name    string
		backoff Backoff
		want    []time.Duration // retries 1, 2, ...
	}{
		{"defaults: max 100 × initial, multiplier 2", Backoff{Initial: 10 * ms},
			[]time.Duration{10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, 1000 * ms, 1000 * ms}},
		{"capped", Backoff{Initial: 10 * ms, Max: 25 * ms, Multiplier: 2},
			[]time.Duration{10 * ms, 20 * ms, 25 * ms, 25 * ms}},
		{"multiplier 1: constant", Backoff{Initial: 7 * ms, Max: 7 * ms, Multiplier: 1},
			[]time.Duration{7 * ms, 7 * ms, 7 * ms}},
		{"fractional multiplier", Backoff{Initial: 100 * ms, Max: time.Second, Multiplier: 1.5},
			[]time.Duration{100 * ms, 150 * ms, 225 * ms, 337500 * time.Microsecond}},
	} {
		for i, want := range tc.want {
			if got := tc.backoff.Ceiling(i + 1); got != want {
				t.Errorf("%s: Ceiling(%d) = %v, want %v", tc.name, i+1, got, want)
			}
		}
	}
	b := Backoff{Initial: time.Second, Multiplier: 10}
	if got := b.Ceiling(1000); got != 100*time.Second {
		t.Errorf("Ceiling(1000) = %v, want the max, 100s: the power overflows", got)
	}
	if got := b.Ceiling(0); got != 0 {
		t.Errorf("Ceiling(0) = %v, want 0", got)
	}
	huge := Backoff{Initial: math.MaxInt64 / 10}
	if got := huge.Ceiling(5); got != math.MaxInt64 {
		t.Errorf("Ceiling of a huge initial = %v, want the largest duration", got)
	}
}

// Delays are uniform over [0, ceiling): the draw scales the ceiling.
func TestDelay(t *testing.T) {
	b := Backoff{Initial: 40 * time.Millisecond, Max: time.Second}
	for _, tc := range []struct {
		n    int
		u    float64
		want time.Duration
	}{
		{1, 0, 0},
		{1, 0.5, 20 * time.Millisecond},
		{2, 0.25, 20 * time.Millisecond},
		{3, 0.999, 159840 * time.Microsecond},
		{10, 0.5, 500 * time.Millisecond},
	} {
		if got := b.Delay(tc.n, tc.u); got != tc.want {
			t.Errorf("Delay(%d, %v) = %v, want %v", tc.n, tc.u, got, tc.want)
		}
	}
}

// Over a seeded source, the delays of a retry fill its range evenly: the
// schedule, checked without sleeping.
func TestDelayDistribution(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond}
	draw := seededJitter(7)
	const n = 20000
	var sum time.Duration
	var buckets [10]int
	for range n {
		d := b.Delay(2, draw())
		if d < 0 || d >= b.Ceiling(2) {
			t.Fatalf("delay %v outside [0, %v)", d, b.Ceiling(2))
		}
		sum += d
		buckets[d*10/b.Ceiling(2)]++
	}
	if mean := sum / n; mean < 98*time.Millisecond || mean > 102*time.Millisecond {
		t.Errorf("mean delay before retry 2: %v, want about 100ms (half of 200ms)", mean)
	}
	for i, c := range buckets {
		if c < n/10*9/10 || c > n/10*11/10 {
			t.Errorf("tenth %d of the range holds %d of %d delays, want about %d", i, c, n, n/10)
		}
	}
}

// WithJitterSeed's source is the documented one: rand.New(rand.NewPCG(seed,
// seed)), so that tests outside the package can reproduce the delays.
func TestSeededJitter(t *testing.T) {
	got := seededJitter(42)
	want := rand.New(rand.NewPCG(42, 42))
	for i := range 100 {
		if g, w := got(), want.Float64(); g != w {
			t.Fatalf("draw %d: %v, want %v", i, g, w)
		}
	}
}

func TestBackoffValidate(t *testing.T) {
	for _, tc := range []struct {
		backoff Backoff
		ok      bool
	}{
		{Backoff{Initial: time.Millisecond}, true},
		{Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}, true},
		{Backoff{}, false},
		{Backoff{Initial: -time.Second}, false},
		{Backoff{Initial: time.Second, Max: time.Millisecond}, false},
		{Backoff{Initial: time.Second, Multiplier: 0.5}, false},
		{Backoff{Initial: time.Second, Multiplier: math.NaN()}, false},
		{Backoff{Initial: time.Second, Multiplier: math.Inf(1)}, false},
	} {
		if err := tc.backoff.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tc.backoff, err, tc.ok)
		}
	}
}
