package peers

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/childproc"
)

// Header describes where and how the comparison ran.
type Header struct {
	Date    time.Time
	Command string
}

// clientNames are the clients as the details name them.
var clientNames = map[string]string{
	clientTriple:           "Triple (generated), dubboretry budget",
	clientTripleNoBudget:   "Triple (generated), dubboretry.WithoutBudget()",
	clientGRPC:             "grpc-go, retryThrottling",
	clientGRPCNoThrottling: "grpc-go, no retryThrottling",
}

// Write prints the report: the header, the table, grpc-go's retries
// against Triple servers, and the details of every run.
func (r *Report) Write(w io.Writer, h Header) {
	c := r.Config
	h.write(w, "Peer comparison: the Triple client of protoc-gen-go-retry (dubboretry) and grpc-go")
	fmt.Fprintf(w, "setup:    3 provider processes on 127.0.0.1, %d client goroutines, retries 3 on UNAVAILABLE,\n", c.Goroutines)
	fmt.Fprintf(w, "          backoff 10 ms to 100 ms, multiplier 2. Triple: peers.proto's policy, full jitter, budget\n")
	fmt.Fprintf(w, "          {ratio: 0.1} (reserve 10 retries/s), dubbo-go's random load balancer. gRPC: round_robin,\n")
	fmt.Fprintf(w, "          maxAttempts 4, retryThrottling {maxTokens: 10, tokenRatio: 0.1}; grpc-go v1.85.0 draws\n")
	fmt.Fprintf(w, "          each delay within ±20%% of min(maxBackoff, initialBackoff x 2^(n-1)), not with full jitter.\n")
	fmt.Fprintf(w, "          Random failures seeded with %d.\n", c.Seed)
	writeListened(w, r.Listeners)
	fmt.Fprintln(w)

	fmt.Fprintln(w, "| scenario | dubboretry budget | gRPC throttling |")
	fmt.Fprintln(w, "|---|---|---|")
	for i, s := range r.Scenarios {
		row := r.Results[i]
		cells := []string{s.Name}
		switch {
		case s.Measure == measureAttempts:
			for _, res := range row {
				cells = append(cells, fmt.Sprintf("%.2f attempts a call", res.Total().AttemptsPerCall()))
			}
		case len(s.Phases) > 1:
			for _, res := range row {
				cells = append(cells, fmt.Sprintf("%s succeed (of the calls after the outage)", percent(res.Last())))
			}
		case s.Method == "CallTimed":
			cells = append(cells,
				fmt.Sprintf("%s succeed; without a budget %s", percent(row[0].Last()), percent(row[1].Last())),
				"n/a (grpc-go has no per-attempt timeout)")
		default:
			for _, res := range row {
				cells = append(cells, percent(res.Last())+" succeed")
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}

	if len(r.GRPCChecks) == 2 {
		g, t := r.GRPCChecks[0].Total(), r.GRPCChecks[1].Total()
		fmt.Fprintf(w, "\ngrpc-go with the same retry policy and no retryThrottling, full outage, %s calls:\n", thousands(g.Calls))
		fmt.Fprintf(w, "  against the providers' grpc-go servers: %.2f attempts a call\n", g.AttemptsPerCall())
		fmt.Fprintf(w, "  against their Triple servers (dubbo-go): %.2f attempts a call (%d retries): grpc-go retries only\n", t.AttemptsPerCall(), t.Attempts-int64(t.Calls))
		fmt.Fprintf(w, "  a Trailers-Only response, which a Triple server on net/http never sends\n")
	}

	if d := r.DeadlineCheck; len(d.Phases) == 1 {
		p := d.Phases[0]
		fmt.Fprintf(w, "\nThe slow row again without a budget, the slow provider's handler honouring the deadline (it\n")
		fmt.Fprintf(w, "returns DEADLINE_EXCEEDED when its context ends): %s succeed; %s ended with INVALID_ARGUMENT,\n", percent(p), calls(p.Failures["INVALID_ARGUMENT"]))
		fmt.Fprintf(w, "dubbo-go's code for an attempt cut while it read the response (\"protocol error: incomplete envelope:\n")
		fmt.Fprintf(w, "context deadline exceeded\"), which the runtime reports as DEADLINE_EXCEEDED since v0.3\n")
	}

	fmt.Fprintf(w, "\nEvery run (attempts: as the providers counted them; failures: the calls' codes):\n\n")
	fmt.Fprintln(w, "| scenario | client → servers | phase | calls | succeeded | attempts | a call | failures | time |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	all := append([][]Result(nil), r.Results...)
	all = append(all, r.GRPCChecks, []Result{r.DeadlineCheck})
	for _, row := range all {
		for _, res := range row {
			for i, p := range res.Phases {
				fmt.Fprintf(w, "| %s | %s → %s | %d | %d | %d | %d | %.3f | %s | %.1f s |\n",
					res.Scenario, clientNames[res.Client], res.Servers, i+1, p.Calls, p.Succeeded,
					p.Attempts, p.AttemptsPerCall(), failures(p.Failures), p.Elapsed.Seconds())
			}
		}
	}

	fmt.Fprintf(w, "\nAn error of each code, by client:\n")
	seen := map[string]bool{}
	for _, row := range all {
		for _, res := range row {
			for _, p := range res.Phases {
				for _, code := range sortedKeys(p.Errors) {
					k := res.Client + " " + res.Servers + " " + code
					if seen[k] {
						continue
					}
					seen[k] = true
					fmt.Fprintf(w, "  %s → %s, %s: %s\n", clientNames[res.Client], res.Servers, code, oneLine(p.Errors[code]))
				}
			}
		}
	}
}

// write prints the title of a report, then h, the machine and the versions
// built in.
func (h Header) write(w io.Writer, title string) {
	fmt.Fprintf(w, "%s\n\n", title)
	fmt.Fprintf(w, "date:     %s\n", h.Date.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "machine:  %d CPUs (runtime.NumCPU), %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(w, "versions: %s\n", versions())
	fmt.Fprintf(w, "command:  %s\n", h.Command)
}

// writeListened ends the setup of a report with how many processes
// listened on how many sockets, by listeners (the sockets of each
// process), if /proc told any.
func writeListened(w io.Writer, listeners map[string][]childproc.Socket) {
	if len(listeners) == 0 {
		return
	}
	sockets := 0
	for _, ls := range listeners {
		sockets += len(ls)
	}
	fmt.Fprintf(w, "          %d processes listened on %d sockets, all on 127.0.0.1 (checked in /proc)\n", len(listeners), sockets)
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// oneLine returns s on one line, 300 bytes at most.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// calls writes n calls.
func calls(n int) string {
	if n == 1 {
		return "1 call"
	}
	return thousands(n) + " calls"
}

// percent writes the success of r as a percentage.
func percent(r PhaseResult) string { return fmt.Sprintf("%.2f%%", r.SuccessRate()) }

// failures writes counts by code, sorted by code.
func failures(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	codes := sortedKeys(m)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d %s", m[c], c)
	}
	return strings.Join(parts, ", ")
}

// versions names the versions of dubbo-go, grpc-go and protobuf built in:
// from the binary's build information, or, in a test binary, which has
// none of its dependencies, from go list.
func versions() string {
	want := []string{"dubbo.apache.org/dubbo-go/v3", "google.golang.org/grpc", "google.golang.org/protobuf"}
	got := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			got[d.Path] = d.Version
		}
	}
	if len(got) == 0 {
		out, err := exec.Command("go", append([]string{"list", "-m"}, want...)...).Output()
		if err == nil {
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if path, v, ok := strings.Cut(line, " "); ok {
					got[path] = v
				}
			}
		}
	}
	var out []string
	for _, path := range want {
		v := got[path]
		if v == "" {
			v = "(unknown)"
		}
		out = append(out, path+" "+v)
	}
	out = append(out, "protoc-gen-go-retry and dubboretry from this repository")
	return strings.Join(out, ", ")
}
