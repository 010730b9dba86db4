package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps checks what the plugin binary links: protobuf and the standard
// library, and none of what only the tests and the example need. Generated
// code needs dubbo-go, the plugin never does (docs/design.md, "Layout").
func TestDeps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	forbidden := []string{
		// The runtime of the generated code.
		"dubbo.apache.org/",
		// What the tests use: protocompile compiles their .proto files.
		"github.com/bufbuild/protocompile",
		"github.com/google/go-cmp/",
		"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc",
		"github.com/dubbo-retry/protoc-gen-go-retry/internal/golden",
		"github.com/dubbo-retry/protoc-gen-go-retry/internal/corpus",
		"testing",
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, strings.TrimSuffix(f, "/")+"/") {
				t.Errorf("the plugin links %s", dep)
			}
		}
	}
}
