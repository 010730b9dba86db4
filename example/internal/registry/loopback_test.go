package registry

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
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

// serveListening answers GET /registrytest/listening with the addresses of listening.
func serveListening(w http.ResponseWriter, _ *http.Request) {
	addrs, err := listening()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(addrs)
}

// checkListening fails the test if p listens on any address but
// 127.0.0.1.
func checkListening(t testing.TB, p *provider) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get("http://" + p.counts() + "/registrytest/listening")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var addrs []string
	if err := json.NewDecoder(resp.Body).Decode(&addrs); err != nil {
		t.Fatalf("listening addresses of %s: %v", p.Name, err)
	}
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.Equal(net.ParseIP(loopbackIP)) {
			t.Errorf("%s listens on %s; every process must bind %s only", p.Name, a, loopbackIP)
		}
	}
	if runtime.GOOS == "linux" && len(addrs) == 0 {
		t.Errorf("%s listens nowhere, by /proc: the check is broken", p.Name)
	}
}

var ipv4 = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)

// checkRegistered fails the test if a node of ZooKeeper, in its path or
// its data, names an IPv4 address other than 127.0.0.1, except the nodes of
// consumers, whose addresses it returns: dubbo-go v3.3.2 registers a
// consumer (with interface-level registration) under the machine's first
// non-loopback address whatever it is told (BaseRegistry.consumerRegistry
// uses common.GetLocalIp, and ignores DUBBO_IP_TO_REGISTRY and the URL's
// IP). Nothing connects to a consumer's registered address.
func checkRegistered(t testing.TB, nodes []zkNode) (consumers []string) {
	t.Helper()
	seen := make(map[string]bool)
	for _, n := range nodes {
		p, err := url.PathUnescape(n.Path)
		if err != nil {
			p = n.Path
		}
		for _, s := range []string{p, n.Data} {
			for _, ip := range ipv4.FindAllString(s, -1) {
				switch {
				case ip == loopbackIP:
				case strings.Contains(p, "/consumers/consumer://"):
					if !seen[ip] {
						seen[ip] = true
						consumers = append(consumers, ip)
					}
				default:
					t.Errorf("ZooKeeper node %s names %s:\n%s", p, ip, n.Data)
				}
			}
		}
	}
	return consumers
}
