package childproc

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// A Socket is a socket a process listens on.
type Socket struct {
	// Net is "tcp", for a TCP socket in state LISTEN, or "udp", for an
	// unconnected, bound UDP socket (IPv4 or IPv6 either way).
	Net string
	// Addr is its local address, host:port.
	Addr string
}

// String writes s as "tcp 127.0.0.1:8080".
func (s Socket) String() string { return s.Net + " " + s.Addr }

// Listening returns the sockets this process listens on, as /proc tells
// them. Where there is no /proc to tell them (not Linux), it returns none,
// and no error.
func Listening() ([]Socket, error) {
	if runtime.GOOS != "linux" {
		return nil, nil
	}
	fds, err := filepath.Glob("/proc/self/fd/*")
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err != nil {
			continue // closed meanwhile
		}
		if inode, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	var out []Socket
	for _, t := range []struct {
		file, state string
	}{
		{"tcp", "0A"}, {"tcp6", "0A"}, // LISTEN
		{"udp", "07"}, {"udp6", "07"}, // unconnected
	} {
		f, err := os.Open("/proc/self/net/" + t.file)
		if err != nil {
			if os.IsNotExist(err) {
				continue // no IPv6
			}
			return nil, err
		}
		s := bufio.NewScanner(f)
		s.Scan() // the header
		for s.Scan() {
			fields := strings.Fields(s.Text())
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			if len(fields) < 10 || fields[3] != t.state || !inodes[fields[9]] {
				continue
			}
			addr, err := procAddr(fields[1])
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("/proc/self/net/%s: %v", t.file, err)
			}
			out = append(out, Socket{Net: t.file[:3], Addr: addr})
		}
		f.Close()
		if err := s.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// procAddr decodes an address of /proc/net/tcp: the IP in hex, in 32-bit
// words of host (little-endian) order, a colon, the port in hex.
func procAddr(s string) (string, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok {
		return "", fmt.Errorf("bad address %q", s)
	}
	b, err := hex.DecodeString(ipHex)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return "", fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return "", fmt.Errorf("bad port in %q", s)
	}
	return net.JoinHostPort(net.IP(b).String(), strconv.FormatUint(port, 10)), nil
}
