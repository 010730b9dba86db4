package gen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// policyDocs returns the policy part of the doc comment of each method of
// the services that src, a .proto file, declares, by method name.
func policyDocs(t *testing.T, src string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	src = "syntax = \"proto3\";\npackage pkg;\noption go_package = \"example.com/pkg\";\n" +
		"import \"retry/v1/retry.proto\";\nmessage M {}\n" + src
	if err := os.WriteFile(filepath.Join(dir, "a.proto"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	req, err := protoc.Request([]string{dir}, []string{"a.proto"}, "")
	if err != nil {
		t.Fatal(err)
	}
	plugin, err := protogen.Options{}.New(req)
	if err != nil {
		t.Fatal(err)
	}
	f, errs := analyze(plugin.FilesByPath["a.proto"], Config{MaxRetries: DefaultMaxRetries})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	docs := make(map[string]string)
	for _, s := range f.services {
		for _, m := range s.methods {
			docs[string(m.Desc.Name())] = policyDoc(f, s, m)
		}
	}
	return docs
}

// What a method's doc comment promises holds for its policy: an attempt
// cut by the timeout is retried only where retry_on lets it be and the
// method has retries; a method with 0 retries is never said to be retried;
// idempotent_only says which option kept the retries.
func TestPolicyDocPromises(t *testing.T) {
	docs := policyDocs(t, `
option (retry.v1.file) = {idempotent_only: true};
service S {
  option (retry.v1.service) = {retries: 2};
  rpc ZeroRetries(M) returns (M) { option (retry.v1.method) = {retries: 0, timeout: {seconds: 1}, retry_on: [CODE_UNAVAILABLE]}; }
  rpc RetryOnOther(M) returns (M) { option (retry.v1.method) = {timeout: {seconds: 1}, retry_on: [CODE_UNAVAILABLE]}; option idempotency_level = IDEMPOTENT; }
  rpc RetryOnDeadline(M) returns (M) { option (retry.v1.method) = {timeout: {seconds: 1}, retry_on: [CODE_DEADLINE_EXCEEDED]}; option idempotency_level = IDEMPOTENT; }
  rpc AnyCode(M) returns (M) { option (retry.v1.method) = {timeout: {seconds: 1}}; option idempotency_level = IDEMPOTENT; }
  rpc NotIdempotent(M) returns (M) {}
  rpc OwnRetries(M) returns (M) { option (retry.v1.method).retries = 1; }
}
service H {
  option (retry.v1.service) = {retries: 1, hedging: {max_attempts: 3, delay_percentile: 95}};
  rpc Hedged(M) returns (M) { option idempotency_level = NO_SIDE_EFFECTS; option (retry.v1.method).timeout = {nanos: 50000000}; }
  rpc Write(M) returns (M) {}
}
service HedgeOnly {
  option (retry.v1.service) = {hedging: {max_attempts: 2, delay: {nanos: 20000000}}};
  rpc Put(M) returns (M) {}
}
`)
	for _, tc := range []struct {
		method    string
		want, not []string
	}{
		{"ZeroRetries", []string{"0 retries (1 attempt)", "With 0 retries it is not retried", "fails with DEADLINE_EXCEEDED."},
			[]string{" is retried", "retried only on", "retried like"}},
		{"RetryOnOther", []string{"retried only on UNAVAILABLE", "fails with DEADLINE_EXCEEDED, which ends the call: retry_on does not list it."},
			[]string{"retried like"}},
		{"RetryOnDeadline", []string{"it is retried like the other failures."}, []string{"ends the call"}},
		{"AnyCode", []string{"it is retried like the other failures."}, nil},
		{"NotIdempotent", []string{"It gets 0 retries: the (retry.v1.service) option of pkg.S gives 2 retries, but the" +
			" idempotent_only of the (retry.v1.file) option of a.proto keeps them"}, []string{" is retried"}},
		{"OwnRetries", []string{"Its own retries apply, though it is not idempotent: the idempotent_only of the" +
			" (retry.v1.file) option of a.proto"}, nil},
		{"Hedged", []string{"hedged with up to 3 copies in all, each sent when the one before has taken longer than the 95th" +
			" percentile", "It is hedged rather than retried: the retries of the (retry.v1.service) option of pkg.H do not reach it.",
			"the next copy is sent then."}, []string{"1 retry"}},
		{"Put", []string{"Its retries are the client's", "The hedging of the (retry.v1.service) option of pkg.HedgeOnly does not reach it"},
			[]string{"Retry policy from the .proto: ."}},
		{"Write", []string{"It gets 0 retries: the (retry.v1.service) option of pkg.H gives 1 retry", "The hedging of the (retry.v1.service) option of pkg.H does not reach it"}, nil},
	} {
		doc := docs[tc.method]
		for _, want := range tc.want {
			if !strings.Contains(doc, want) {
				t.Errorf("%s: the doc does not say %q:\n%s", tc.method, want, doc)
			}
		}
		for _, not := range tc.not {
			if strings.Contains(doc, not) {
				t.Errorf("%s: the doc says %q:\n%s", tc.method, not, doc)
			}
		}
	}
}

func TestPercentile(t *testing.T) {
	for p, want := range map[float64]string{95: "95th", 99.9: "99.9th", 1: "1st", 2: "2nd", 3: "3rd", 11: "11th", 12: "12th", 21: "21st", 50: "50th"} {
		if got := percentile(p); got != want {
			t.Errorf("percentile(%v) = %q, want %q", p, got, want)
		}
	}
}
