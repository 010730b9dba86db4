// A standalone ZooKeeper server for tests, from Debian's zookeeperd
// package but without its service scripts:
//
//	java -cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar \
//	    org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg
//
// with a zoo.cfg of its own: a temporary data directory, the client port on
// a free port of 127.0.0.1, and no admin server (nor any other port).
//
// Without the package (or without java) the tests that need ZooKeeper skip,
// naming `apt-get install zookeeperd`; with the environment variable CI=true
// they fail instead, so that CI never skips them silently.

package testbed

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

// The files of Debian's zookeeperd (and its dependency zookeeper).
const (
	zooKeeperJar  = "/usr/share/java/zookeeper.jar"
	zooKeeperConf = "/etc/zookeeper/conf"
	zooKeeperMain = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
)

// zooKeeperStart bounds the wait for a server to serve.
const zooKeeperStart = 60 * time.Second

// ZooKeeperAvailable reports why ZooKeeper cannot run here, or nil if it
// can.
func ZooKeeperAvailable() error {
	var errs []error
	if _, err := os.Stat(zooKeeperJar); err != nil {
		errs = append(errs, fmt.Errorf("no ZooKeeper: %v", err))
	}
	if _, err := exec.LookPath("java"); err != nil {
		errs = append(errs, fmt.Errorf("no java: %v", err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w (apt-get install zookeeperd)", errors.Join(errs...))
	}
	return nil
}

// RequireZooKeeper skips the test when ZooKeeper cannot run here, or fails it when
// the environment variable CI is "true".
func RequireZooKeeper(t testing.TB) {
	t.Helper()
	err := ZooKeeperAvailable()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true, and ZooKeeper cannot run: %v", err)
	}
	t.Skipf("skipping: %v", err)
}

// A ZooKeeper is a standalone ZooKeeper server on a loopback port. It can be
// stopped and started again on the same port and data directory.
type ZooKeeper struct {
	// Addr is the client address, 127.0.0.1:port.
	Addr string

	t   testing.TB
	dir string // zoo.cfg, data/ and the server's output

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited

	out childproc.Buffer // the output of every run, for failures
}

// StartZooKeeper starts a ZooKeeper server on a free port of 127.0.0.1 with a data
// directory of its own, and returns once it serves. The server stops and its
// files go when the test ends. It calls RequireZooKeeper.
func StartZooKeeper(t testing.TB) *ZooKeeper {
	t.Helper()
	RequireZooKeeper(t)
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &ZooKeeper{
		Addr: net.JoinHostPort(Loopback, strconv.Itoa(port)),
		t:    t,
		dir:  t.TempDir(),
	}
	data := filepath.Join(s.dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	// tickTime 500 ms lets sessions be as short as 1 s (2 ticks) and as
	// long as 10 s (20 ticks): a client asking for more gets 10 s.
	cfg := fmt.Sprintf(`tickTime=500
dataDir=%s
clientPortAddress=127.0.0.1
clientPort=%d
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok
`, data, port)
	if err := os.WriteFile(filepath.Join(s.dir, "zoo.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop(false) })
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s), keeping its
// port and data for Restart.
func (s *ZooKeeper) Stop() {
	s.t.Helper()
	s.stop(false)
}

// Kill stops the server with SIGKILL, as a crash would.
func (s *ZooKeeper) Kill() {
	s.t.Helper()
	s.stop(true)
}

// Restart starts a stopped server again, on the same port and data
// directory, and returns once it serves.
func (s *ZooKeeper) Restart() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Output returns what the server has written, in every run.
func (s *ZooKeeper) Output() string { return s.out.String() }

func (s *ZooKeeper) start() error {
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		return errors.New("zookeeper: the server is running")
	}
	cmd := exec.Command("java",
		// A small, fast-starting JVM: the tests need little of it.
		"-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dzookeeper.admin.enableServer=false",
		"-cp", zooKeeperConf+":"+zooKeeperJar,
		zooKeeperMain, filepath.Join(s.dir, "zoo.cfg"))
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("zookeeper: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	if err := Await(zooKeeperStart, 50*time.Millisecond, func() error {
		err := ZooKeeperServing(s.Addr)
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return Gone(fmt.Errorf("exited before it served (%v)", err))
		default:
			return err
		}
	}); err != nil {
		s.stop(true)
		return fmt.Errorf("zookeeper on %s: %v:\n%s", s.Addr, err, s.Output())
	}
	return nil
}

func (s *ZooKeeper) stop(kill bool) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if !kill {
		cmd.Process.Signal(sigterm)
		select {
		case <-exited:
			return
		case <-time.After(10 * time.Second):
		}
	}
	cmd.Process.Kill()
	<-exited
}

// ZooKeeperServing returns nil if a ZooKeeper server serves requests on addr: it
// answers the four-letter word srvr with its mode. A server that is up but
// not (yet) serving answers without one.
func ZooKeeperServing(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("srvr")); err != nil {
		return err
	}
	var reply strings.Builder
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Mode: ") {
			return nil
		}
		reply.WriteString(sc.Text())
		reply.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return fmt.Errorf("srvr: %q", strings.TrimSpace(reply.String()))
}
