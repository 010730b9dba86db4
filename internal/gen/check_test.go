package gen

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// TestCheckFieldsFinite: every floating-point value of an option must be
// finite, in whatever message and field holds it, those a later
// retry.proto adds included: here a Hedging message with a double, a float
// and a repeated double, which the bundled retry.proto does not have.
func TestCheckFieldsFinite(t *testing.T) {
	const schema = `syntax = "proto3";
package next;
message ServiceRetry {
  Hedging hedging = 7;
}
message Hedging {
  double delay_percentile = 3;
  float weight = 4;
  repeated double delays = 5;
  Hedging fallback = 6;
}
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "next.proto"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	req, err := protoc.Request([]string{dir}, []string{"next.proto"}, "")
	if err != nil {
		t.Fatal(err)
	}
	// Without source info, the errors name the file alone: this test is
	// about which values are refused.
	req.ProtoFile[0].SourceCodeInfo = nil
	fd, err := protodesc.NewFile(req.ProtoFile[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	opt := dynamicpb.NewMessage(fd.Messages().ByName("ServiceRetry"))
	const value = `hedging: {
  delay_percentile: inf
  weight: nan
  delays: [0.5, -inf]
  fallback: {delay_percentile: 0.99, delays: [1e309]}
}`
	if err := prototext.Unmarshal([]byte(value), opt); err != nil {
		t.Fatal(err)
	}

	c := &checker{file: &protogen.File{Desc: fd}}
	c.checkFields(optionSite{subject: "next.Shop", option: "(retry.v1.service)"}, "(retry.v1.service)", nil, opt)
	const want = "next.proto: next.Shop: (retry.v1.service).hedging.delay_percentile is +Inf; it must be a finite number\n" +
		"next.proto: next.Shop: (retry.v1.service).hedging.weight is NaN; it must be a finite number\n" +
		"next.proto: next.Shop: (retry.v1.service).hedging.delays[1] is -Inf; it must be a finite number\n" +
		"next.proto: next.Shop: (retry.v1.service).hedging.fallback.delays[0] is +Inf; it must be a finite number"
	if got := c.errs.Error(); got != want {
		t.Errorf("errors:\n got: %s\nwant: %s", got, want)
	}
}

func TestGoPackageNameProblem(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"shopv1", ""},
		{"_shop", ""},
		{"Ünï", ""},
		{"type", "is a Go keyword"},
		{"func", "is a Go keyword"},
		{"go", "is a Go keyword"},
		{"map", "is a Go keyword"},
		{"shop-v1", "is not a Go identifier"},
		{"1shop", "is not a Go identifier"},
		{"shop v1", "is not a Go identifier"},
		{"", "is not a Go identifier"},
		{"_", "is the blank identifier, which cannot name a package"},
	} {
		if got := goPackageNameProblem(tc.name); got != tc.want {
			t.Errorf("goPackageNameProblem(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
