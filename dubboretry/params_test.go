package dubboretry

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
)

var fullPolicy = &Service{
	Methods: []Method{
		{Name: "GetCart", RetryOn: []triple_protocol.Code{triple_protocol.CodeUnavailable, triple_protocol.CodeDeadlineExceeded}, RetryOnFrom: ProtoMethod,
			Backoff: Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 2}, BackoffFrom: ProtoMethod},
		{Name: "get_thing", Backoff: Backoff{Initial: 1500 * time.Microsecond}, BackoffFrom: ProtoMethod},
		{Name: "Quote", RetryOn: []triple_protocol.Code{triple_protocol.CodeResourceExhausted}, RetryOnFrom: ProtoMethod},
		{Name: "Nothing"},
		{Name: "Hedged", Idempotent: true, Hedging: Hedging{MaxAttempts: 2, Delay: 20 * time.Millisecond}, HedgingFrom: ProtoMethod},
		{Name: "Adaptive", Idempotent: true, Hedging: Hedging{MaxAttempts: 3, DelayPercentile: 99.9}, HedgingFrom: ProtoService},
	},
	Budget: Budget{Ratio: 0.1, MinRetriesPerSecond: 10}, BudgetFrom: ProtoService,
}

// The .proto's policy is written once, compactly, with nothing a URL
// escapes: dubbo-go formats the URL on every call.
func TestEncodePolicy(t *testing.T) {
	v := dialedParam(t, fullPolicy)
	want := "m.GetCart-retryon-deadline_exceeded.unavailable~m.GetCart-backoff-10ms_1s_2" +
		"~m.get_thing-backoff-1500us_150ms_2~m.Quote-retryon-resource_exhausted" +
		"~m.Hedged-hedging-2_20ms~m.Adaptive-hedging-3_p99.9~s-budget-0.1_10"
	if v != want {
		t.Errorf("encodePolicy:\n got %s\nwant %s", v, want)
	}
	if esc := url.QueryEscape(v); esc != v {
		t.Errorf("the encoding needs escaping: %s", esc)
	}
}

func TestDecodeLayer(t *testing.T) {
	l, err := decodeLayer(dialedParam(t, fullPolicy))
	if err != nil {
		t.Fatal(err)
	}
	get := l.methods["GetCart"]
	if get == nil || !get.retryOnSet || get.retryOn != setOf([]triple_protocol.Code{14, 4}) ||
		!get.backoffSet || get.backoff != (Backoff{10 * time.Millisecond, time.Second, 2}) {
		t.Errorf("GetCart: %+v", get)
	}
	thing := l.methods["get_thing"]
	if thing == nil || thing.retryOnSet || thing.backoff != (Backoff{1500 * time.Microsecond, 150 * time.Millisecond, 2}) {
		t.Errorf("get_thing: %+v", thing)
	}
	if _, ok := l.methods["Nothing"]; ok {
		t.Error("a method with no policy is written")
	}
	if !l.budgetSet || l.budget != (Budget{0.1, 10}) {
		t.Errorf("budget: %v %+v", l.budgetSet, l.budget)
	}

	// Later settings of a scope and kind replace earlier ones.
	l, err = decodeLayer("s-retryon-internal~s-backoff-1s_2s_1.5~s-retryon-any~s-backoff-none~s-budget-1_0~s-budget-none")
	if err != nil {
		t.Fatal(err)
	}
	if !l.service.retryOnSet || l.service.retryOn != 0 || !l.service.backoffSet || l.service.backoff != (Backoff{}) ||
		!l.budgetSet || l.budget != (Budget{}) {
		t.Errorf("service: %+v, budget %v %+v", l.service, l.budgetSet, l.budget)
	}
}

func TestDecodeLayerErrors(t *testing.T) {
	for _, v := range []string{
		"s",
		"s-retryon",
		"x-retryon-any",
		"m.-retryon-any",
		"m.a.b-retryon-any",
		"s-sometimes-any",
		"s-retryon-teapot",
		"s-retryon-unavailable.unavailable",
		"s-retryon-code_17",
		"s-backoff-1s_2s",
		"s-backoff-0s_1s_2",
		"s-backoff-1s_1ms_2",
		"s-backoff-1s_2s_0.5",
		"s-backoff-1s_2s_x",
		"s-budget-0_10",
		"s-budget-1.5_10",
		"s-budget-0.1_-1",
		"s-budget-0.1",
		"m.Get-budget-0.1_10",
		"s-retryon-any~",
	} {
		if _, err := decodeLayer(v); err == nil {
			t.Errorf("decodeLayer(%q) succeeded, want an error", v)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                   "0s",
		2 * time.Second:                     "2s",
		1500 * time.Millisecond:             "1500ms",
		250 * time.Microsecond:              "250us",
		7:                                   "7ns",
		time.Hour:                           "3600s",
		time.Second + 1:                     "1000000001ns",
		time.Duration(1<<63 - 1):            "9223372036854775807ns",
		time.Millisecond + time.Microsecond: "1001us",
	} {
		got := formatDuration(d)
		if got != want {
			t.Errorf("formatDuration(%v) = %s, want %s", d, got, want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != d {
			t.Errorf("ParseDuration(%s) = %v, %v; want %v", got, back, err, d)
		}
		if strings.ContainsFunc(got, func(r rune) bool { return r > 0x7f }) {
			t.Errorf("formatDuration(%v) = %s is not ASCII", d, got)
		}
	}
}
