package docs

import (
	"regexp"
	"strings"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
)

// demo is the command that <!-- excerpt: PATH --> may name.
const demo = "example/cmd/demo"

// Each block marked <!-- excerpt: example/cmd/demo --> is lines the demo
// prints: each line, with its runs of spaces as one, is a line of the
// demo's output, where a number with a decimal point (an average, which
// varies from run to run) stands for any such number.
func TestExcerpts(t *testing.T) {
	for _, b := range allBlocks(t) {
		if b.marker.kind != "excerpt" {
			continue
		}
		if b.marker.arg != demo {
			t.Errorf("%v: <!-- excerpt: %s -->: the test runs no %s; excerpts are of %s", b, b.marker.arg, b.marker.arg, demo)
			continue
		}
		out := demoOutput(t)
		for i, line := range b.lines() {
			if strings.TrimSpace(line) == "" {
				continue
			}
			if !excerptRE(line).MatchString(out) {
				t.Errorf("%s: the demo printed no line %q (a number with a decimal point stands for any); it printed\n%s",
					b.at(i+1), line, out)
			}
		}
	}
}

var (
	spacesRE  = regexp.MustCompile(`[ \t]+`)
	decimalRE = regexp.MustCompile(`[0-9]+\.[0-9]+`)
)

// excerptRE returns the expression that matches a whole line of the demo's
// output, its spaces collapsed (collapse), that line of an excerpt stands
// for.
func excerptRE(line string) *regexp.Regexp {
	parts := decimalRE.Split(collapse(line), -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`(?m)^` + strings.Join(parts, `[0-9]+\.[0-9]+`) + `$`)
}

// collapse trims each line of text and makes each run of spaces in it one.
func collapse(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = spacesRE.ReplaceAllString(strings.TrimSpace(l), " ")
	}
	return strings.Join(lines, "\n")
}

var demoRun once[string]

// demoOutput runs the demo's walkthrough once and returns what it printed,
// collapsed. The demo (go run ./cmd/demo) first regenerates the example's
// stubs into the source tree, which a test must not do while other
// packages build; tempmod's TestExampleIsFresh checks that the committed stubs are what
// it would write, so the walkthrough it then runs is the demo's output.
func demoOutput(t *testing.T) string {
	t.Helper()
	return demoRun.get(t, func() (string, error) {
		out, err := tempmod.Go(repoRoot+"/example", "run", "./cmd/walkthrough")
		return collapse(out), err
	})
}

func TestExcerptRE(t *testing.T) {
	out := collapse("2      greet.proto: GreetHedge's hedging {max_attempts: 2, delay: 50ms}  1.40      ok (c)\n" +
		"(a) The server saw the attempts 31ms apart.\n")
	for _, tc := range []struct {
		line  string
		match bool
	}{
		{"2  greet.proto: GreetHedge's hedging {max_attempts: 2, delay: 50ms} 1.55 ok (c)", true},
		{"2 greet.proto: GreetHedge's hedging {max_attempts: 2, delay: 50ms} 1 ok (c)", false},
		{"    (a) The server saw the attempts 31ms apart.", true},
		{"(a) The server saw the attempts 32ms apart.", false},
		{"(a) The server saw", false},
	} {
		if got := excerptRE(tc.line).MatchString(out); got != tc.match {
			t.Errorf("excerpt line %q matches: %v, want %v", tc.line, got, tc.match)
		}
	}
}
