package registry

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dubbogo/go-zookeeper/zk"
	gxzookeeper "github.com/dubbogo/gost/database/kv/zk"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
)

// A zkNode is a node of ZooKeeper's tree: its path and data.
type zkNode struct {
	Path, Data string
}

// zkTree returns every node of the ZooKeeper at addr, read in a child
// process (the ZooKeeper client logs on standard error).
func zkTree(t testing.TB, addr string) []zkNode {
	t.Helper()
	c := startChild(t, "zkdump", "zkdump", addr, time.Minute)
	var nodes []zkNode
	for m := range c.Messages() {
		nodes = append(nodes, m.Nodes...)
	}
	wait(t, c)
	return nodes
}

// dumpZK prints every node of the ZooKeeper at addr.
func dumpZK(addr string) error {
	cli, err := gxzookeeper.NewZookeeperClient("registrytest-dump", []string{addr}, false, gxzookeeper.WithZkTimeOut(5*time.Second))
	if err != nil {
		return err
	}
	defer cli.Close()
	var nodes []zkNode
	var walk func(p string) error
	walk = func(p string) error {
		// A node listed a moment ago may be gone: a consumer process that
		// ended takes its node with it.
		data, _, err := cli.GetContent(p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %v", p, err)
		}
		nodes = append(nodes, zkNode{Path: p, Data: string(data)})
		children, err := cli.GetChildren(p)
		if errors.Is(err, zk.ErrNoNode) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("children of %s: %v", p, err)
		}
		sort.Strings(children)
		for _, c := range children {
			if err := walk(path.Join(p, c)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("/"); err != nil {
		return err
	}
	say(message{Nodes: nodes})
	return nil
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
				case ip == testbed.Loopback:
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
