package zookeeper

import (
	"testing"
)

func TestStartStopRestart(t *testing.T) {
	s := Start(t)
	if err := Serving(s.Addr); err != nil {
		t.Fatalf("after Start: %v", err)
	}
	s.Stop()
	if err := Serving(s.Addr); err == nil {
		t.Fatal("after Stop: still serving")
	}
	s.Restart()
	if err := Serving(s.Addr); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
	s.Kill()
	if err := Serving(s.Addr); err == nil {
		t.Fatal("after Kill: still serving")
	}
	s.Restart()
	if err := Serving(s.Addr); err != nil {
		t.Fatalf("after the second Restart: %v", err)
	}
}
