package peers

import (
	"net"
	"runtime"
	"slices"
	"testing"
)

func TestProcAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0100007F:1F90":                         "127.0.0.1:8080",
		"00000000:0016":                         "0.0.0.0:22",
		"00000000000000000000000001000000:01BB": "[::1]:443",
		"00000000000000000000000000000000:0050": "[::]:80",
	} {
		if got, err := procAddr(in); got != want || err != nil {
			t.Errorf("procAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestListeners(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("listeners reads /proc")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, err := listeners()
	if err != nil {
		t.Fatal(err)
	}
	if want := "tcp " + l.Addr().String(); !slices.Contains(got, want) {
		t.Errorf("listeners() = %q, want it to hold %q", got, want)
	}
}
