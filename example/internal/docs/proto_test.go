package docs

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// syntaxRE finds the line that makes a .proto a whole file.
var syntaxRE = regexp.MustCompile(`(?m)^\s*(syntax|edition)\s*=`)

// Every ```proto block of the docs is a whole file that compiles, from
// which protoc-gen-go and protoc-gen-go-retry generate Go that builds and
// vets against dubbo-go, in a module of its own named after its
// go_package; or it is marked as a region of a file the tests compile, or
// as an invalid example (TestInvalidBlocks).
func TestProtoBlocks(t *testing.T) {
	for _, b := range allBlocks(t) {
		if b.lang != "proto" || b.marker.kind == "region" || b.marker.kind == "invalid" {
			continue
		}
		if !syntaxRE.MatchString(b.text) {
			t.Errorf("%v is not a whole .proto (it has no syntax line): mark it <!-- region: PATH --> "+
				"with PATH a .proto that a test compiles, or make it a whole file", b)
			continue
		}
		if b.marker.kind == "file" && compiledByTests(b.marker.arg) == nil {
			continue // a copy of a file that a test compiles (TestFileBlocks)
		}
		t.Run(strings.ReplaceAll(b.at(1), "/", "_"), func(t *testing.T) {
			if err := buildProto(t, b); err != nil {
				t.Error(err)
			}
		})
	}
}

// buildProto generates and builds the Go of the proto block b. Its errors
// point into the doc.
func buildProto(t *testing.T, b block) error {
	name := fmt.Sprintf("block_%d.proto", b.line)
	req, err := blockRequest(t, b, name)
	if err != nil {
		return err
	}
	var goPackage string
	for _, f := range req.ProtoFile {
		if f.GetName() == name {
			goPackage, _, _ = strings.Cut(f.GetOptions().GetGoPackage(), ";")
		}
	}
	// Without a go_package, protoc-gen-go stops, as it does under protoc.
	param := "module=" + goPackage
	if goPackage == "" {
		param = ""
	}
	mod := t.TempDir()
	for _, gen := range []struct {
		name string
		run  protoc.Plugin
	}{
		{"protoc-gen-go", protoc.ProtocGenGo},
		{"protoc-gen-go-retry", protoc.Exec(plugin(t))},
	} {
		req.Parameter = &param
		files, err := protoc.Run(req, gen.run)
		if err != nil {
			return atDoc(fmt.Errorf("%s: %v", gen.name, err), name, b)
		}
		if err := protoc.Write(mod, files); err != nil {
			return err
		}
		if !slices.ContainsFunc(files, func(f *pluginpb.CodeGeneratorResponse_File) bool { return strings.HasSuffix(f.GetName(), ".go") }) {
			return fmt.Errorf("%v: %s generated no Go file", b, gen.name)
		}
	}
	newModule(t, mod, goPackage)
	if err := buildAndVet(mod, ""); err != nil {
		return fmt.Errorf("%v, generated in a module of its own (%s):\n%v", b, goPackage, err)
	}
	return nil
}

// blockRequest writes the proto block b as the file name, with
// retry/v1/retry.proto on the import path, compiles it and returns the
// request protoc would send a plugin. Its errors point into the doc.
func blockRequest(t *testing.T, b block, name string) (*pluginpb.CodeGeneratorRequest, error) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, name), []byte(b.text), 0o644); err != nil {
		return nil, err
	}
	req, err := protoc.Request([]string{src}, []string{name}, "")
	if err != nil {
		return nil, atDoc(err, name, b)
	}
	return req, nil
}

// atDoc rewrites the positions in err of the file name, which holds the
// block b, as positions in b's doc.
func atDoc(err error, name string, b block) error {
	re := regexp.MustCompile(regexp.QuoteMeta(name) + `(:(\d+)(:\d+)?)?`)
	msg := re.ReplaceAllStringFunc(err.Error(), func(m string) string {
		sub := re.FindStringSubmatch(m)
		if sub[2] == "" {
			return b.String()
		}
		n, _ := strconv.Atoi(sub[2])
		return b.at(n) + sub[3]
	})
	return fmt.Errorf("%s", msg)
}
