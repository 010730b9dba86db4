package childproc

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
	for _, in := range []string{"0100007F", "0100007F00:1F90", "zz00007F:1F90", "0100007F:1F9000"} {
		if got, err := procAddr(in); err == nil {
			t.Errorf("procAddr(%q) = %q, want an error", in, got)
		}
	}
}

func TestListening(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Listening reads /proc")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	got, err := Listening()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []Socket{{"tcp", l.Addr().String()}, {"udp", u.LocalAddr().String()}} {
		if !slices.Contains(got, want) {
			t.Errorf("Listening() = %q, want it to hold %q", got, want)
		}
	}
}
