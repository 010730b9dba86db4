package metrics

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"github.com/dubbogo/gost/log/logger"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// entry is one line a captureLogger was given.
type entry struct {
	level string
	msg   string
	at    time.Time
}

// captureLogger is a logger for dubbo-go (gost's Logger interface) that
// keeps every line, and writes it, as dubbo-go's default logger would, to
// out: gost's zap logger, at Info level, with a stack trace on each Error
// (zap.Config.Build's default outside development).
type captureLogger struct {
	mu      sync.Mutex
	entries []entry
	out     bytes.Buffer
	zap     *zap.SugaredLogger
}

func newCaptureLogger() *captureLogger {
	c := new(captureLogger)
	enc := zapcore.NewConsoleEncoder(zapcore.EncoderConfig{
		TimeKey: "time", LevelKey: "level", NameKey: "logger", CallerKey: "caller",
		MessageKey: "message", StacktraceKey: "stacktrace",
		EncodeLevel: zapcore.CapitalLevelEncoder, EncodeTime: zapcore.ISO8601TimeEncoder,
		EncodeDuration: zapcore.SecondsDurationEncoder, EncodeCaller: zapcore.ShortCallerEncoder,
	})
	core := zapcore.NewCore(enc, zapcore.AddSync(lockedWriter{c}), zap.InfoLevel)
	c.zap = zap.New(core, zap.AddCaller(), zap.AddCallerSkip(2), zap.AddStacktrace(zap.ErrorLevel)).Sugar()
	return c
}

// lockedWriter writes to c.out under c.mu, which log holds.
type lockedWriter struct{ c *captureLogger }

func (w lockedWriter) Write(p []byte) (int, error) { return w.c.out.Write(p) }

func (c *captureLogger) log(level, msg string, write func(...any)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = append(c.entries, entry{level, msg, time.Now()})
	write(msg)
}

func (c *captureLogger) Debug(args ...any) { c.log("debug", fmt.Sprint(args...), c.zap.Debug) }
func (c *captureLogger) Info(args ...any)  { c.log("info", fmt.Sprint(args...), c.zap.Info) }
func (c *captureLogger) Warn(args ...any)  { c.log("warn", fmt.Sprint(args...), c.zap.Warn) }
func (c *captureLogger) Error(args ...any) { c.log("error", fmt.Sprint(args...), c.zap.Error) }
func (c *captureLogger) Fatal(args ...any) { c.log("fatal", fmt.Sprint(args...), c.zap.Error) }
func (c *captureLogger) Debugf(f string, args ...any) {
	c.log("debug", fmt.Sprintf(f, args...), c.zap.Debug)
}
func (c *captureLogger) Infof(f string, args ...any) {
	c.log("info", fmt.Sprintf(f, args...), c.zap.Info)
}
func (c *captureLogger) Warnf(f string, args ...any) {
	c.log("warn", fmt.Sprintf(f, args...), c.zap.Warn)
}
func (c *captureLogger) Errorf(f string, args ...any) {
	c.log("error", fmt.Sprintf(f, args...), c.zap.Error)
}
func (c *captureLogger) Fatalf(f string, args ...any) {
	c.log("fatal", fmt.Sprintf(f, args...), c.zap.Error)
}

func (c *captureLogger) snapshot() ([]entry, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]entry(nil), c.entries...), c.out.String()
}

// capture makes dubbo-go log into a new captureLogger until the test ends.
func capture(t *testing.T) *captureLogger {
	c := newCaptureLogger()
	old := logger.GetLogger()
	logger.SetLogger(c)
	t.Cleanup(func() { logger.SetLogger(old) })
	return c
}

// failedIn returns the calls a line of the runtime says failed.
var failedRE = regexp.MustCompile(`: (\d+) calls? failed`)

func failedIn(line string) int {
	m := failedRE.FindStringSubmatch(line)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A 300-call outage, three seconds long, of BudgetService.Declared (3
// retries of UNAVAILABLE, a budget that soon refuses them) and of
// LayerService.Never (0 retries), every attempt failing with UNAVAILABLE:
// the runtime writes no stack trace, no Error, at most one line per second
// for BudgetService, which counts every failed call and the budget's
// refusals, and nothing for LayerService.Never, which was never going to
// retry.
func TestOutageLog(t *testing.T) {
	cli := testbed.Client(t)
	// A budget of its own: TestOutageBudget spends BudgetService's.
	budgeted := testbed.Try(e2ev1.NewBudgetService(cli, dubboretry.WithBudget(0.1, 1))).Must(t)
	never := testbed.Try(e2ev1.NewLayerService(cli)).Must(t)
	log := capture(t)

	const calls = 300
	start := time.Now()
	for i := range calls {
		for _, call := range []unary{budgeted.Declared, never.Never} {
			_, err := call(t.Context(), request(t, unavailable, 1000))
			if triple_protocol.CodeOf(err) != unavailable {
				t.Fatalf("call %d: %v, want unavailable", i, err)
			}
		}
		time.Sleep(10 * time.Millisecond) // an outage of 3 s, not a measurement
	}
	// The last line comes when the last second of the outage is over.
	var entries []entry
	var out string
	failed := 0
	for wait := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		entries, out = log.snapshot()
		failed = 0
		for _, e := range entries {
			if strings.Contains(e.msg, "service=e2e.v1.BudgetService:") {
				failed += failedIn(e.msg)
			}
		}
		if failed >= calls || time.Since(wait) > 30*time.Second { // a bound, not a measurement
			break
		}
	}
	elapsed := time.Since(start)

	var budgetLines, runtimeLines []entry
	for _, e := range entries {
		if !strings.Contains(e.msg, "[dubboretry]") {
			continue
		}
		runtimeLines = append(runtimeLines, e)
		switch {
		case strings.Contains(e.msg, "service=e2e.v1.BudgetService:"):
			budgetLines = append(budgetLines, e)
		case strings.Contains(e.msg, "LayerService"):
			t.Errorf("a line for LayerService, whose Never has 0 retries: %s", e.msg)
		}
		if e.level != "warn" {
			t.Errorf("the runtime logged at %s: %s", e.level, e.msg)
		}
	}
	// Lines of one service are a second apart at least: over elapsed, at
	// most one at the start and one a second after.
	if limit := 1 + int(elapsed/time.Second); len(budgetLines) > limit || len(budgetLines) < 2 {
		t.Errorf("%d lines for BudgetService over %v, want 2 to %d", len(budgetLines), elapsed.Round(time.Millisecond), limit)
	}
	if failed != calls {
		t.Errorf("the lines count %d failed calls, want %d", failed, calls)
	}
	refused := 0
	for _, e := range budgetLines {
		if strings.Contains(e.msg, "refused by the budget") {
			refused++
		}
	}
	if refused == 0 {
		t.Error("no line says the budget refused retries")
	}
	// No stack trace in what dubbo-go's default logger would write: a
	// stack is written as lines of "function\n\tfile:line".
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "goroutine ") {
			t.Errorf("a stack trace line in the log: %q", line)
			break
		}
	}
	var others []string
	for _, e := range entries {
		if !strings.Contains(e.msg, "[dubboretry]") && e.level != "debug" {
			others = append(others, e.level+": "+e.msg)
		}
	}
	t.Logf("%d calls of each method over %v; the runtime's %d lines:\n%s\n%d lines above Debug from the rest of dubbo-go%s",
		calls, elapsed.Round(time.Millisecond), len(runtimeLines), messages(runtimeLines), len(others), firstFew(others))
}

func messages(entries []entry) string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.at.Format("15:04:05.000") + " " + e.level + " " + e.msg
	}
	return strings.Join(out, "\n")
}

func firstFew(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return ", the first:\n" + strings.Join(lines[:min(5, len(lines))], "\n")
}
