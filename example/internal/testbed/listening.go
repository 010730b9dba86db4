package testbed

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// listening returns the local addresses of the TCP sockets this process
// listens on, read from /proc (Linux only: elsewhere it returns nil).
func listening() ([]string, error) {
	if runtime.GOOS != "linux" {
		return nil, nil
	}
	inodes := make(map[string]bool)
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var addrs []string
	for _, table := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return nil, err
		}
		s := bufio.NewScanner(f)
		s.Scan() // the header
		for s.Scan() {
			fields := strings.Fields(s.Text())
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
				continue
			}
			addr, err := procAddr(fields[1])
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("%s: %v", table, err)
			}
			addrs = append(addrs, addr)
		}
		f.Close()
		if err := s.Err(); err != nil {
			return nil, err
		}
	}
	return addrs, nil
}

// procAddr decodes an address of /proc/net/tcp{,6}: the IP in hex, in
// 32-bit words of the host's byte order (little-endian here), a colon and
// the port in hex.
func procAddr(s string) (string, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return "", fmt.Errorf("bad address %q", s)
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil || len(raw)%4 != 0 {
		return "", fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return "", fmt.Errorf("bad port in %q", s)
	}
	return net.JoinHostPort(net.IP(raw).String(), strconv.Itoa(int(port))), nil
}

// serveListening answers with the addresses of listening, in JSON.
func serveListening(w http.ResponseWriter, _ *http.Request) {
	addrs, err := listening()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(addrs)
}

// CheckLoopbackOnly fails the test if p listens on any address but
// Loopback.
func (p *Provider) CheckLoopbackOnly(t testing.TB) {
	t.Helper()
	var addrs []string
	if err := get(p.HTTP, "listening", &addrs); err != nil {
		t.Fatalf("listening addresses of %s: %v", p.Name, err)
	}
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.Equal(net.ParseIP(Loopback)) {
			t.Errorf("%s listens on %s; every process must bind %s only", p.Name, a, Loopback)
		}
	}
	if runtime.GOOS == "linux" && len(addrs) == 0 {
		t.Errorf("%s listens nowhere, by /proc: the check is broken", p.Name)
	}
}
