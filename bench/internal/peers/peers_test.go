package peers

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

func TestMain(m *testing.M) {
	// A provider or client process of the comparison is this test binary,
	// run again: it becomes that here.
	Main()
	os.Setenv("DUBBO_IP_TO_REGISTRY", loopback)
	os.Exit(m.Run())
}

// processLog returns where a test's processes log: nowhere, unless the
// test runs with -v, when the test logs what they wrote as it ends.
func processLog(t *testing.T) io.Writer {
	if !testing.Verbose() {
		return nil
	}
	log := new(childproc.Buffer)
	t.Cleanup(func() { t.Log(log.String()) })
	return log
}

// TestSmoke runs every scenario, and the checks, with small counts, and
// checks that the table is printed with sane values. The comparison itself
// is the command (cmd/peers), not a test.
func TestSmoke(t *testing.T) {
	c := Config{Calls: 50, PacedCalls: 20, Rate: 200, OutageCalls: 20, Goroutines: 4, Seed: 1, Log: processLog(t)}
	rep, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}

	sane := func(res Result) {
		t.Helper()
		for i, p := range res.Phases {
			where := res.Scenario + ", " + res.Client + " → " + res.Servers
			if a := p.AttemptsPerCall(); a < 1 || a > 4 {
				t.Errorf("%s, phase %d: %.3f attempts a call, want 1 to 4", where, i+1, a)
			}
			if s := p.SuccessRate(); s < 0 || s > 100 {
				t.Errorf("%s, phase %d: %.2f%% succeeded", where, i+1, s)
			}
			for code := range p.Failures {
				switch code {
				// Not INVALID_ARGUMENT: an attempt cut by its limit while it
				// read the answer is DEADLINE_EXCEEDED (dubbo-go says
				// INVALID_ARGUMENT, and v0.2 passed that on).
				case "UNAVAILABLE", "DEADLINE_EXCEEDED":
				default:
					t.Errorf("%s, phase %d: calls failed with %s: %s", where, i+1, code, p.Errors[code])
				}
			}
			if strings.HasPrefix(res.Scenario, "full outage") && p.Succeeded != 0 {
				t.Errorf("%s: %d calls succeeded in an outage", where, p.Succeeded)
			}
		}
	}
	if len(rep.Results) != len(rep.Scenarios) {
		t.Fatalf("%d rows of results for %d scenarios", len(rep.Results), len(rep.Scenarios))
	}
	for i, row := range rep.Results {
		if len(row) != len(rep.Scenarios[i].Clients) {
			t.Errorf("%s: %d results for %d clients", rep.Scenarios[i].Name, len(row), len(rep.Scenarios[i].Clients))
		}
		for _, res := range row {
			sane(res)
		}
	}
	for _, res := range rep.GRPCChecks {
		sane(res)
	}
	sane(rep.DeadlineCheck)

	// grpc-go's retry policy, without throttling, in an outage: every call
	// makes its 4 attempts on grpc-go servers, and 1 on Triple servers,
	// which never send the Trailers-Only response grpc-go retries.
	if len(rep.GRPCChecks) != 2 {
		t.Fatalf("%d checks of grpc-go's retries, want 2", len(rep.GRPCChecks))
	}
	if a := rep.GRPCChecks[0].Total().AttemptsPerCall(); a != 4 {
		t.Errorf("grpc-go without throttling → grpc-go servers in an outage: %.3f attempts a call, want 4", a)
	}
	if a := rep.GRPCChecks[1].Total().AttemptsPerCall(); a != 1 {
		t.Errorf("grpc-go without throttling → Triple servers in an outage: %.3f attempts a call, want 1 (no retry)", a)
	}

	want := []string{
		"| scenario | dubboretry budget | gRPC throttling |",
		"google.golang.org/grpc v1.85.0",
		"n/a (grpc-go has no per-attempt timeout)", "without a budget",
	}
	for _, s := range rep.Scenarios {
		want = append(want, "| "+s.Name+" | ")
	}
	checkReport(t, rep, want)
}

// checkReport writes rep as the command would, after the run of a smoke
// test, and fails t for each of want that the report lacks, and if its
// header lacks the machine, the command or dubbo-go's version; it logs the
// report.
func checkReport(t *testing.T, rep interface{ Write(io.Writer, Header) }, want []string) {
	t.Helper()
	var out bytes.Buffer
	rep.Write(&out, Header{Date: time.Now(), Command: "go test"})
	table := out.String()
	for _, w := range append([]string{"machine:", "command:  go test", "dubbo.apache.org/dubbo-go/v3 v3.3.2"}, want...) {
		if !strings.Contains(table, w) {
			t.Errorf("the report lacks %q:\n%s", w, table)
		}
	}
	t.Logf("\n%s", table)
}
