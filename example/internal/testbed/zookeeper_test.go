package testbed

import (
	"testing"
)

func TestZooKeeperStartStopRestart(t *testing.T) {
	s := StartZooKeeper(t)
	if err := ZooKeeperServing(s.Addr); err != nil {
		t.Fatalf("after Start: %v", err)
	}
	s.Stop()
	if err := ZooKeeperServing(s.Addr); err == nil {
		t.Fatal("after Stop: still serving")
	}
	s.Restart()
	if err := ZooKeeperServing(s.Addr); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
	s.Kill()
	if err := ZooKeeperServing(s.Addr); err == nil {
		t.Fatal("after Kill: still serving")
	}
	s.Restart()
	if err := ZooKeeperServing(s.Addr); err != nil {
		t.Fatalf("after the second Restart: %v", err)
	}
}
