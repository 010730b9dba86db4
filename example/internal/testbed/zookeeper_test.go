package testbed

import (
	"testing"
)

func TestZooKeeperStartStopRestart(t *testing.T) {
	s := StartZooKeeper(t)
	for _, step := range []struct {
		name    string
		do      func()
		serving bool
	}{
		{"Start", func() {}, true},
		{"Stop", s.Stop, false},
		{"Restart", s.Restart, true},
		{"Kill", s.Kill, false},
		{"the second Restart", s.Restart, true},
	} {
		step.do()
		if err := ZooKeeperServing(s.Addr); (err == nil) != step.serving {
			t.Fatalf("after %s: serving %v (%v), want %v", step.name, err == nil, err, step.serving)
		}
	}
}
