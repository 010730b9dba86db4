package retryv1_test

import (
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/golden"
	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
	"github.com/dubbo-retry/protoc-gen-go-retry/options"
)

// TestGenerated checks that retry.pb.go is what protoc-gen-go makes of
// retry.proto today. go test ./options/... -update regenerates it.
func TestGenerated(t *testing.T) {
	req, err := protoc.Request([]string{"../.."}, []string{options.RetryProto}, "paths=source_relative")
	if err != nil {
		t.Fatal(err)
	}
	files, err := protoc.Run(req, protoc.ProtocGenGo)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "../..", files)
}
