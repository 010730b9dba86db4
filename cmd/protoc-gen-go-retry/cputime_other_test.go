//go:build !unix

package main

import "time"

// benchCPUTime is not measured here: the benchmarks report no cpu-ns/op.
func benchCPUTime() time.Duration { return 0 }
