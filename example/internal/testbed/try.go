package testbed

import "testing"

// Try(f()).Must(t) is the result of f, or the end of the test if f fails.
func Try[T any](v T, err error) Tried[T] { return Tried[T]{v, err} }

// Tried is the result of a function that may fail.
type Tried[T any] struct {
	v   T
	err error
}

// Must returns the result, or ends the test if the function failed.
func (r Tried[T]) Must(t testing.TB) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}
