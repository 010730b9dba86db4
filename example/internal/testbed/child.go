package testbed

import (
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dubbogo/gost/log/logger"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

// LogEnv, set to a level ("info", "debug") in the parent's environment,
// makes its children log at that level, to files in os.TempDir that
// StartChild names: for debugging.
const LogEnv = "EXAMPLE_TEST_LOG"

// Loopback is the only address the servers bind and register.
const Loopback = "127.0.0.1"

// Main, called first in main or TestMain, runs this process as the role
// its environment names (childproc.Main), given the role's configuration,
// and exits: with 1, saying why on standard error, if the role fails. The
// roles are those of roles and "provider" (provider.go). In the parent,
// which no role names, it returns at once.
//
// It also makes dubbo-go log fatal errors only (the tests fail calls on
// purpose by the thousand), or in a child what LogEnv says; and it sets
// DUBBO_IP_TO_REGISTRY to Loopback, for this process and every child it
// starts: dubbo-go registers the machine's first non-loopback address
// unless told otherwise.
func Main(roles map[string]func(config string) error) {
	logger.SetLoggerLevel("fatal")
	os.Setenv("DUBBO_IP_TO_REGISTRY", Loopback)
	if childproc.Role() == "" {
		return
	}
	if l := os.Getenv(LogEnv); l != "" {
		logger.SetLoggerLevel(l)
	}
	all := map[string]func(string) error{}
	maps.Copy(all, roles)
	all[providerRole] = childproc.JSON(provide)
	childproc.Main(all)
}

// StartChild is childproc.Start for a test, from any goroutine: the child
// is killed if it outlives timeout, and stopped when the test ends (Stop),
// when the test also fails for every data race the child reported, if
// built with -race, in which one of the racing accesses ran through this
// repository's code (see checkRaces). With LogEnv set, the child's output
// goes to a file, which the test names.
func StartChild[M any](t testing.TB, name, role string, config any, timeout time.Duration) (*childproc.Child[M], error) {
	opts := childproc.Options{
		// Under -race, a child reports its races on stderr and exits as it
		// would without them; checkRaces sorts them out.
		Env:     []string{"GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" exitcode=0")},
		Timeout: timeout,
	}
	var logs *os.File
	if os.Getenv(LogEnv) != "" {
		var err error
		if logs, err = os.CreateTemp("", fmt.Sprintf("testbed-%s-*.log", role)); err == nil {
			opts.Output = logs
		}
	}
	c, err := childproc.Start[M](name, role, config, opts)
	if err != nil {
		if logs != nil {
			logs.Close()
		}
		return nil, err
	}
	if logs != nil {
		t.Logf("%s (pid %d) logs to %s", name, c.Pid(), logs.Name())
	}
	t.Cleanup(func() {
		c.Stop()
		if logs != nil {
			logs.Close()
		}
		checkRaces(t, c.Name, c.Stderr())
	})
	return c, nil
}

// MustStartChild is StartChild, in the test's goroutine: it ends the test
// if the child does not start.
func MustStartChild[M any](t testing.TB, name, role string, config any, timeout time.Duration) *childproc.Child[M] {
	t.Helper()
	c, err := StartChild[M](t, name, role, config, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// module is the import path prefix of this repository's packages.
const module = "github.com/dubbo-retry/protoc-gen-go-retry/"

// checkRaces fails t for every data race that the child name reported in
// out, its standard error (when built with -race), in which one of the
// racing accesses ran through this repository's code, and logs the others,
// which are dubbo-go's or its dependencies' own.
func checkRaces(t testing.TB, name, out string) {
	t.Helper()
	const start, end = "WARNING: DATA RACE", "=================="
	for {
		i := strings.Index(out, start)
		if i < 0 {
			return
		}
		out = out[i:]
		report := out
		if j := strings.Index(out, end); j >= 0 {
			report = out[:j]
		}
		out = out[len(report):]
		ours := false
		access := false
		for _, line := range strings.Split(report, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "Goroutine "):
				access = false
			case strings.HasSuffix(line, ":") && strings.Contains(line, " at "):
				access = true // Read at, Previous write at, ...
			case access && strings.HasPrefix(line, module):
				ours = true
			}
		}
		if ours {
			t.Errorf("%s: a data race in this repository's code:\n%s", name, report)
		} else {
			t.Logf("%s: a data race within dubbo-go or its dependencies:\n%s", name, report)
		}
	}
}
