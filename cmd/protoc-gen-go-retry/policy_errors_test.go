package main

import (
	"fmt"
	"maps"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/pluginpb"
)

// A policyErrorCase is an input that retry.proto's rules refuse (the
// policy fields of docs/design.md, "Errors"), written both ways an option
// can be: field by field (option (retry.v1.method).backoff.initial = ...;)
// and as one aggregate value (option (retry.v1.method) = {...};).
type policyErrorCase struct {
	name string
	// statements are the option's fields in the path syntax, each written
	// after the option's name: ".timeout = {}".
	statements []string
	// at is the statement the error points at in the path syntax. In the
	// aggregate syntax the file records no location below the option, and
	// the error points at the option.
	at        int
	aggregate string
	// msg is the error after the option's name: ".timeout is 0s; ...".
	msg string
	// serviceAndFile: the error can occur on services and files only.
	serviceAndFile bool
}

var policyErrorCases = []policyErrorCase{
	{name: "zero timeout",
		statements: []string{".timeout = {}"}, aggregate: "{timeout: {}}",
		msg: ".timeout is 0s; it must be positive"},
	{name: "negative timeout",
		statements: []string{".timeout = {seconds: -2}"}, aggregate: "{timeout: {seconds: -2}}",
		msg: ".timeout is -2s; it must be positive"},
	{name: "invalid timeout",
		statements: []string{".timeout = {seconds: 1, nanos: -1}"}, aggregate: "{timeout: {seconds: 1, nanos: -1}}",
		msg: ".timeout is not a valid duration: seconds and nanos have different signs"},
	{name: "CODE_UNSPECIFIED in retry_on",
		statements: []string{".retry_on = CODE_UNAVAILABLE", ".retry_on = CODE_UNSPECIFIED"}, at: 1,
		aggregate: "{retry_on: [CODE_UNAVAILABLE, CODE_UNSPECIFIED]}",
		msg:       ".retry_on lists CODE_UNSPECIFIED, which is not a code"},
	{name: "a code twice in retry_on",
		statements: []string{".retry_on = CODE_UNAVAILABLE", ".retry_on = CODE_ABORTED", ".retry_on = CODE_UNAVAILABLE"}, at: 2,
		aggregate: "{retry_on: [CODE_UNAVAILABLE, CODE_ABORTED, CODE_UNAVAILABLE]}",
		msg:       ".retry_on lists CODE_UNAVAILABLE more than once"},
	{name: "backoff without initial",
		statements: []string{".backoff.max = {seconds: 1}"}, aggregate: "{backoff: {max: {seconds: 1}}}",
		msg: ".backoff.initial is missing; a backoff needs its first delay"},
	{name: "zero initial",
		statements: []string{".backoff.initial = {}"}, aggregate: "{backoff: {initial: {}}}",
		msg: ".backoff.initial is 0s; it must be positive"},
	{name: "negative initial",
		statements: []string{".backoff.initial = {nanos: -1000}"}, aggregate: "{backoff: {initial: {nanos: -1000}}}",
		msg: ".backoff.initial is -1µs; it must be positive"},
	{name: "max below initial",
		statements: []string{".backoff.initial = {seconds: 2}", ".backoff.max = {seconds: 1}"}, at: 1,
		aggregate: "{backoff: {initial: {seconds: 2}, max: {seconds: 1}}}",
		msg:       ".backoff.max is 1s, less than initial (2s)"},
	{name: "multiplier below 1",
		statements: []string{".backoff.initial = {seconds: 1}", ".backoff.multiplier = 0.5"}, at: 1,
		aggregate: "{backoff: {initial: {seconds: 1}, multiplier: 0.5}}",
		msg:       ".backoff.multiplier is 0.5; it must be at least 1 (or unset, for 2)"},
	{name: "negative multiplier",
		statements: []string{".backoff.initial = {seconds: 1}", ".backoff.multiplier = -2"}, at: 1,
		aggregate: "{backoff: {initial: {seconds: 1}, multiplier: -2}}",
		msg:       ".backoff.multiplier is -2; it must be at least 1 (or unset, for 2)"},
	{name: "infinite multiplier",
		statements: []string{".backoff.initial = {seconds: 1}", ".backoff.multiplier = inf"}, at: 1,
		aggregate: "{backoff: {initial: {seconds: 1}, multiplier: inf}}",
		msg:       ".backoff.multiplier is +Inf; it must be a finite number"},
	{name: "multiplier overflowing to infinity",
		statements: []string{".backoff.initial = {seconds: 1}", ".backoff.multiplier = 1e309"}, at: 1,
		aggregate: "{backoff: {initial: {seconds: 1}, multiplier: 1e309}}",
		msg:       ".backoff.multiplier is +Inf; it must be a finite number"},
	{name: "negative infinite multiplier",
		statements: []string{".backoff.initial = {seconds: 1}", ".backoff.multiplier = -inf"}, at: 1,
		aggregate: "{backoff: {initial: {seconds: 1}, multiplier: -inf}}",
		msg:       ".backoff.multiplier is -Inf; it must be a finite number"},
	{name: "NaN multiplier",
		statements: []string{".backoff.initial = {seconds: 1}", ".backoff.multiplier = nan"}, at: 1,
		aggregate: "{backoff: {initial: {seconds: 1}, multiplier: nan}}",
		msg:       ".backoff.multiplier is NaN; it must be a finite number"},
	{name: "zero ratio", serviceAndFile: true,
		statements: []string{".budget.min_retries_per_second = 5"}, aggregate: "{budget: {}}",
		msg: ".budget.ratio is 0; it must be more than 0 and at most 1"},
	{name: "negative ratio", serviceAndFile: true,
		statements: []string{".budget.ratio = -0.1"}, aggregate: "{budget: {ratio: -0.1}}",
		msg: ".budget.ratio is -0.1; it must be more than 0 and at most 1"},
	{name: "ratio above 1", serviceAndFile: true,
		statements: []string{".budget.ratio = 1.5"}, aggregate: "{budget: {ratio: 1.5}}",
		msg: ".budget.ratio is 1.5; it must be more than 0 and at most 1"},
	{name: "infinite ratio", serviceAndFile: true,
		statements: []string{".budget.ratio = inf"}, aggregate: "{budget: {ratio: inf}}",
		msg: ".budget.ratio is +Inf; it must be a finite number"},
	{name: "negative infinite ratio", serviceAndFile: true,
		statements: []string{".budget.ratio = -inf"}, aggregate: "{budget: {ratio: -inf}}",
		msg: ".budget.ratio is -Inf; it must be a finite number"},
	{name: "NaN ratio", serviceAndFile: true,
		statements: []string{".budget.ratio = nan"}, aggregate: "{budget: {ratio: nan}}",
		msg: ".budget.ratio is NaN; it must be a finite number"},
	// Hedging at the method level needs an idempotent method:
	// TestMethodHedgingErrors.
	{name: "neither delay", serviceAndFile: true,
		statements: []string{".hedging.max_attempts = 2"}, aggregate: "{hedging: {max_attempts: 2}}",
		msg: ".hedging sets neither delay nor delay_percentile; set one: a fixed delay, or a percentile of the method's latencies"},
	{name: "one copy", serviceAndFile: true,
		statements: []string{".hedging.max_attempts = 1", ".hedging.delay = {nanos: 1000000}"},
		aggregate:  "{hedging: {max_attempts: 1, delay: {nanos: 1000000}}}",
		msg:        ".hedging.max_attempts is 1; it must be 2 to 5, the copies of the call in all, the first included"},
	{name: "six copies", serviceAndFile: true,
		statements: []string{".hedging.delay = {nanos: 1000000}", ".hedging.max_attempts = 6"}, at: 1,
		aggregate: "{hedging: {max_attempts: 6, delay: {nanos: 1000000}}}",
		msg:       ".hedging.max_attempts is 6; it must be 2 to 5, the copies of the call in all, the first included"},
	{name: "both delays", serviceAndFile: true,
		statements: []string{".hedging.max_attempts = 2", ".hedging.delay = {nanos: 1000000}", ".hedging.delay_percentile = 95"}, at: 2,
		aggregate: "{hedging: {max_attempts: 2, delay: {nanos: 1000000}, delay_percentile: 95}}",
		msg:       ".hedging sets both delay and delay_percentile; set one: a fixed delay, or a percentile of the method's latencies"},
	{name: "zero delay", serviceAndFile: true,
		statements: []string{".hedging.max_attempts = 2", ".hedging.delay = {}"}, at: 1,
		aggregate: "{hedging: {max_attempts: 2, delay: {}}}",
		msg:       ".hedging.delay is 0s; it must be positive"},
	{name: "percentile 100", serviceAndFile: true,
		statements: []string{".hedging.max_attempts = 3", ".hedging.delay_percentile = 100"}, at: 1,
		aggregate: "{hedging: {max_attempts: 3, delay_percentile: 100}}",
		msg:       ".hedging.delay_percentile is 100; it must be more than 0 and less than 100"},
	{name: "negative percentile", serviceAndFile: true,
		statements: []string{".hedging.max_attempts = 3", ".hedging.delay_percentile = -5"}, at: 1,
		aggregate: "{hedging: {max_attempts: 3, delay_percentile: -5}}",
		msg:       ".hedging.delay_percentile is -5; it must be more than 0 and less than 100"},
	{name: "infinite percentile", serviceAndFile: true,
		statements: []string{".hedging.max_attempts = 3", ".hedging.delay_percentile = inf"}, at: 1,
		aggregate: "{hedging: {max_attempts: 3, delay_percentile: inf}}",
		msg:       ".hedging.delay_percentile is +Inf; it must be a finite number"},
}

// A level is where an option is set, in a .proto the tests write: the
// source around the option's statements, the line and column of the first
// statement, and the subject errors name.
type level struct {
	name, option, subject string
	line, col             int
	source                func(statements []string) string
}

var levels = []level{
	{name: "method", option: "(retry.v1.method)", subject: "shop.v1.Shop.Charge", line: 9, col: 5,
		source: func(stmts []string) string {
			return header + "service Shop {\n  rpc Charge(Req) returns (Resp) {\n" + indent("    ", stmts) + "  }\n}\n"
		}},
	{name: "service", option: "(retry.v1.service)", subject: "shop.v1.Shop", line: 8, col: 3,
		source: func(stmts []string) string {
			return header + "service Shop {\n" + indent("  ", stmts) + "  rpc Charge(Req) returns (Resp);\n}\n"
		}},
	{name: "file", option: "(retry.v1.file)", subject: "shop.v1", line: 7, col: 1,
		source: func(stmts []string) string {
			return header + indent("", stmts) + "service Shop {\n  rpc Charge(Req) returns (Resp);\n}\n"
		}},
}

func indent(prefix string, lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(prefix + l + "\n")
	}
	return b.String()
}

// TestPolicyErrors checks each error of the policy fields at each level
// where it can occur, in both option syntaxes: the message, the position,
// and that nothing is written.
func TestPolicyErrors(t *testing.T) {
	testPolicyErrors(t, policyErrorCases, nil)
}

// testPolicyErrors runs each of cases at each level where it can occur, in
// both option syntaxes, with files (name: source) besides shop.proto, such
// as an edited retry/v1/retry.proto.
func testPolicyErrors(t *testing.T, cases []policyErrorCase, files map[string]string) {
	t.Helper()
	request := func(t *testing.T, src string) *pluginpb.CodeGeneratorRequest {
		t.Helper()
		all := map[string]string{"shop.proto": src}
		maps.Copy(all, files)
		req := compile(t, all, "")
		req.FileToGenerate = []string{"shop.proto"}
		return req
	}
	for _, tc := range cases {
		for _, lv := range levels {
			if tc.serviceAndFile && lv.name == "method" {
				continue
			}
			t.Run(tc.name+"/"+lv.name+"/path", func(t *testing.T) {
				stmts := make([]string, len(tc.statements))
				for i, s := range tc.statements {
					stmts[i] = "option " + lv.option + s + ";"
				}
				src := lv.source(stmts)
				want := fmt.Sprintf("shop.proto:%d:%d: %s: %s%s", lv.line+tc.at, lv.col, lv.subject, lv.option, tc.msg)
				wantError(t, request(t, src), want)
			})
			t.Run(tc.name+"/"+lv.name+"/aggregate", func(t *testing.T) {
				src := lv.source([]string{"option " + lv.option + " = " + tc.aggregate + ";"})
				want := fmt.Sprintf("shop.proto:%d:%d: %s: %s%s", lv.line, lv.col, lv.subject, lv.option, tc.msg)
				wantError(t, request(t, src), want)
			})
		}
	}
}

// TestPolicyOnStreamingMethod: any field of (retry.v1.method) on a
// streaming method is an error, not only retries.
func TestPolicyOnStreamingMethod(t *testing.T) {
	for _, stmt := range []string{
		"option (retry.v1.method).timeout = {seconds: 1};",
		"option (retry.v1.method) = {retry_on: [CODE_UNAVAILABLE]};",
		"option (retry.v1.method).backoff.initial = {nanos: 1000};",
	} {
		src := header + "service Shop {\n  rpc Watch(Req) returns (stream Resp) {\n    " + stmt + "\n  }\n}\n"
		wantError(t, compile(t, map[string]string{"shop.proto": src}, ""),
			"shop.proto:9:5: shop.v1.Shop.Watch: (retry.v1.method) is set on a server streaming method; retry defaults apply to unary methods only")
	}
}

// editedRetryProto is retry.proto as a user might have edited a vendored
// copy, or as a newer release might declare it: MethodRetry has a budget,
// ServiceRetry, Backoff and Budget each a field this plugin does not know.
func editedRetryProto(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../options/retry/v1/retry.proto")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), "  reserved 6;\n", "  Budget budget = 6;\n", 1)
	s = strings.Replace(s, "  Hedging hedging = 7;\n}\n\n// FileRetry", "  Hedging hedging = 7;\n  string surge = 8;\n}\n\n// FileRetry", 1)
	s = strings.Replace(s, "  double multiplier = 3;\n}", "  double multiplier = 3;\n  double jitter = 4;\n}", 1)
	s = strings.Replace(s, "  optional uint32 min_retries_per_second = 2;\n}", "  optional uint32 min_retries_per_second = 2;\n  uint32 burst = 3;\n}", 1)
	if strings.Count(s, "Budget budget = 6;") != 3 || !strings.Contains(s, "surge = 8") ||
		!strings.Contains(s, "jitter = 4") || !strings.Contains(s, "burst = 3") {
		t.Fatal("retry.proto changed: update editedRetryProto")
	}
	return s
}

// TestBudgetOnMethod: a budget is per service. retry.proto gives methods
// none, so it takes an edited copy to set one; the plugin refuses it rather
// than dropping it, in both syntaxes, and likewise any field it does not
// know.
func TestBudgetOnMethod(t *testing.T) {
	edited := editedRetryProto(t)
	for _, stmt := range []string{
		"option (retry.v1.method).budget.ratio = 0.5;",
		"option (retry.v1.method) = {budget: {ratio: 0.5}};",
	} {
		src := header + "service Shop {\n  rpc Charge(Req) returns (Resp) {\n    " + stmt + "\n  }\n}\n"
		req := compile(t, map[string]string{"shop.proto": src, "retry/v1/retry.proto": edited}, "")
		req.FileToGenerate = []string{"shop.proto"}
		wantError(t, req, "shop.proto:9:5: shop.v1.Shop.Charge: (retry.v1.method) sets a budget; a budget caps the retries"+
			" of a whole service: set it in (retry.v1.service) or (retry.v1.file)")
	}

	src := header + "service Shop {\n  option (retry.v1.service).surge = \"yes\";\n  rpc Charge(Req) returns (Resp);\n}\n"
	req := compile(t, map[string]string{"shop.proto": src, "retry/v1/retry.proto": edited}, "")
	req.FileToGenerate = []string{"shop.proto"}
	wantError(t, req, "shop.proto:8:3: shop.v1.Shop: (retry.v1.service) has field 8, which retry/v1/retry.proto does not"+
		" declare for this plugin: the .proto was compiled against an edited or newer retry.proto (use the one"+
		" protoc-gen-go-retry --write-options writes, or a newer plugin)")
}

// TestUnknownNestedField: a field this plugin does not know in a backoff or
// a budget is refused like one of the option itself, pointing at the field
// where the file records it.
func TestUnknownNestedField(t *testing.T) {
	const unknown = ", which retry/v1/retry.proto does not declare for this plugin: the .proto was compiled against" +
		" an edited or newer retry.proto (use the one protoc-gen-go-retry --write-options writes, or a newer plugin)"
	testPolicyErrors(t, []policyErrorCase{
		{name: "in backoff",
			statements: []string{".backoff.initial = {seconds: 1}", ".backoff.jitter = 0.5"}, at: 1,
			aggregate: "{backoff: {initial: {seconds: 1}, jitter: 0.5}}",
			msg:       ".backoff has field 4" + unknown},
		{name: "in budget", serviceAndFile: true,
			statements: []string{".budget.ratio = 0.1", ".budget.burst = 5"}, at: 1,
			aggregate: "{budget: {ratio: 0.1, burst: 5}}",
			msg:       ".budget has field 3" + unknown},
	}, map[string]string{"retry/v1/retry.proto": editedRetryProto(t)})
}

// TestPolicyErrorsTogether: the policy errors of a run are reported with
// the others, sorted by position.
func TestPolicyErrorsTogether(t *testing.T) {
	src := header + `option (retry.v1.file) = {retries: 11, budget: {ratio: 2}, backoff: {initial: {seconds: 1}, multiplier: nan}};
service Shop {
  option (retry.v1.service).backoff.multiplier = 0.5;
  rpc Charge(Req) returns (Resp) {
    option (retry.v1.method) = {timeout: {}, retry_on: [CODE_UNSPECIFIED]};
  }
}
`
	wantError(t, compile(t, map[string]string{"shop.proto": src}, ""), strings.Join([]string{
		"shop.proto:7:1: shop.v1: (retry.v1.file).backoff.multiplier is NaN; it must be a finite number",
		"shop.proto:7:1: shop.v1: (retry.v1.file).retries is 11, above max_retries=10 (raise the cap with the plugin parameter max_retries=N)",
		"shop.proto:7:1: shop.v1: (retry.v1.file).budget.ratio is 2; it must be more than 0 and at most 1",
		"shop.proto:9:3: shop.v1.Shop: (retry.v1.service).backoff.initial is missing; a backoff needs its first delay",
		"shop.proto:9:3: shop.v1.Shop: (retry.v1.service).backoff.multiplier is 0.5; it must be at least 1 (or unset, for 2)",
		"shop.proto:11:5: shop.v1.Shop.Charge: (retry.v1.method).timeout is 0s; it must be positive",
		"shop.proto:11:5: shop.v1.Shop.Charge: (retry.v1.method).retry_on lists CODE_UNSPECIFIED, which is not a code",
	}, "\n"))
}

// TestMethodHedgingErrors: a method's own hedging needs a unary method whose
// idempotency_level is IDEMPOTENT or NO_SIDE_EFFECTS, and excludes retries
// in the same option. A service's hedging skips the other methods without
// an error (TestResolve).
func TestMethodHedgingErrors(t *testing.T) {
	const hedging = "hedging: {max_attempts: 2, delay: {nanos: 20000000}}"
	for _, tc := range []struct {
		name, method, want string
	}{
		{"not idempotent", "  rpc Charge(Req) returns (Resp) {\n    option (retry.v1.method) = {" + hedging + "};\n  }\n",
			"shop.proto:9:5: shop.v1.Shop.Charge: (retry.v1.method).hedging is set on a method whose idempotency_level is" +
				" neither IDEMPOTENT nor NO_SIDE_EFFECTS; hedged copies of a call run at the same time, so only a method" +
				" safe to repeat may be hedged"},
		{"with retries", "  rpc Get(Req) returns (Resp) {\n    option idempotency_level = NO_SIDE_EFFECTS;\n" +
			"    option (retry.v1.method).retries = 2;\n    option (retry.v1.method).hedging = {max_attempts: 2, delay: {nanos: 20000000}};\n  }\n",
			"shop.proto:11:5: shop.v1.Shop.Get: (retry.v1.method) sets both retries and hedging; a method has one or the other"},
		{"max_attempts out of range", "  rpc Get(Req) returns (Resp) {\n    option idempotency_level = NO_SIDE_EFFECTS;\n" +
			"    option (retry.v1.method).hedging = {max_attempts: 6, delay: {nanos: 20000000}};\n  }\n",
			"shop.proto:10:5: shop.v1.Shop.Get: (retry.v1.method).hedging.max_attempts is 6; it must be 2 to 5, the copies of the call in all, the first included"},
		{"neither delay", "  rpc Get(Req) returns (Resp) {\n    option idempotency_level = NO_SIDE_EFFECTS;\n" +
			"    option (retry.v1.method).hedging.max_attempts = 2;\n  }\n",
			"shop.proto:10:5: shop.v1.Shop.Get: (retry.v1.method).hedging sets neither delay nor delay_percentile; set one: a fixed delay, or a percentile of the method's latencies"},
		{"on a stream", "  rpc Watch(Req) returns (stream Resp) {\n    option (retry.v1.method) = {" + hedging + "};\n  }\n",
			"shop.proto:9:5: shop.v1.Shop.Watch: (retry.v1.method) is set on a server streaming method; retry defaults apply to unary methods only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := header + "service Shop {\n" + tc.method + "}\n"
			wantError(t, compile(t, map[string]string{"shop.proto": src}, ""), tc.want)
		})
	}
}
