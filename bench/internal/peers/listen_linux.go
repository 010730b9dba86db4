package peers

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// listeners returns the addresses this process listens on: its TCP
// sockets in state LISTEN and its unconnected, bound UDP sockets, as
// /proc tells them.
func listeners() ([]string, error) {
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
	var out []string
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
			if len(fields) < 10 || fields[3] != t.state || !inodes[fields[9]] {
				continue
			}
			addr, err := procAddr(fields[1])
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("/proc/self/net/%s: %v", t.file, err)
			}
			out = append(out, t.file[:3]+" "+addr)
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
		return "", fmt.Errorf("address %q", s)
	}
	b, err := hex.DecodeString(ipHex)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return "", fmt.Errorf("address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return "", fmt.Errorf("address %q", s)
	}
	return net.JoinHostPort(net.IP(b).String(), strconv.FormatUint(port, 10)), nil
}
