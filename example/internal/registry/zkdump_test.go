package registry

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"testing"
	"time"

	"github.com/dubbogo/go-zookeeper/zk"
	gxzookeeper "github.com/dubbogo/gost/database/kv/zk"
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
	c.wait()
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
