package stubs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStubsCurrent fails when the committed stubs differ from what protoc
// and the plugins, protoc-gen-go-retry built from this repository, generate
// now: after a change to the generator, run go -C bench generate ./...
func TestStubsCurrent(t *testing.T) {
	dir, err := ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * len(Sources); len(files) != want {
		t.Errorf("generated %d files, want %d (.pb.go, _grpc.pb.go, .triple.go for each of %d sources)", len(files), want, len(Sources))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, ProtoDir, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%v: the stub is not committed; run go -C bench generate ./...", err)
			continue
		}
		if !Same(got, want) {
			t.Errorf("%s/%s is not what the plugins generate now; run go -C bench generate ./...", ProtoDir, name)
		}
	}
}

func TestSame(t *testing.T) {
	a := []byte("// versions:\n// \tprotoc-gen-go v1.36.12\n// \tprotoc        v3.21.12\n// source: a.proto\n")
	b := []byte("// versions:\n// \tprotoc-gen-go v1.36.12\n// \tprotoc        (unknown)\n// source: a.proto\n")
	c := []byte("// versions:\n// - protoc-gen-go-grpc v1.6.2\n// - protoc             v5.29.3\n")
	d := []byte("// versions:\n// - protoc-gen-go-grpc v1.6.1\n// - protoc             v5.29.3\n")
	if !Same(a, b) {
		t.Errorf("files that differ in protoc's version only are not the same")
	}
	if Same(c, d) {
		t.Errorf("files that differ in a plugin's version are the same")
	}
}
