package readme

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// Every ```proto block of the README compiles, and protoc-gen-go and
// protoc-gen-go-retry generate from it Go that builds and vets against
// dubbo-go, in a module of its own named after its go_package.
func TestProtoBlocks(t *testing.T) {
	n := 0
	for _, b := range readmeBlocks(t) {
		if b.lang != "proto" {
			continue
		}
		n++
		t.Run(fmt.Sprintf("README.md:%d", b.line), func(t *testing.T) {
			if err := buildProto(t, b); err != nil {
				t.Error(err)
			}
		})
	}
	if n < 2 {
		t.Errorf("the README has %d ```proto blocks; want the quick start's and the annotated API's", n)
	}
}

// buildProto generates and builds the Go of the proto block b. Its errors
// point into README.md.
func buildProto(t *testing.T, b block) error {
	src := t.TempDir()
	name := fmt.Sprintf("readme_%d.proto", b.line)
	if b.file != "" {
		name = filepath.Base(b.file)
	}
	if err := os.WriteFile(filepath.Join(src, name), []byte(b.text), 0o644); err != nil {
		return err
	}
	inREADME := func(err error) error { return atREADME(err, name, b.line) }

	req, err := protoc.Request([]string{src}, []string{name}, "")
	if err != nil {
		return inREADME(err)
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
			return inREADME(fmt.Errorf("%s: %v", gen.name, err))
		}
		if err := protoc.Write(mod, files); err != nil {
			return err
		}
		if !hasSuffix(files, ".go") {
			return fmt.Errorf("%v: %s generated no Go file", b, gen.name)
		}
	}
	newModule(t, mod, goPackage)
	if err := buildAndVet(t, mod, ""); err != nil {
		return fmt.Errorf("%v, generated in a module of its own (%s):\n%v", b, goPackage, err)
	}
	return nil
}

func hasSuffix(files []*pluginpb.CodeGeneratorResponse_File, suffix string) bool {
	for _, f := range files {
		if strings.HasSuffix(f.GetName(), suffix) {
			return true
		}
	}
	return false
}

// atREADME rewrites the positions in err of the file name, which holds the
// block whose first line is README.md's line, as positions in README.md.
func atREADME(err error, name string, line int) error {
	re := regexp.MustCompile(regexp.QuoteMeta(name) + `(:(\d+)(:\d+)?)?`)
	msg := re.ReplaceAllStringFunc(err.Error(), func(m string) string {
		sub := re.FindStringSubmatch(m)
		if sub[2] == "" {
			return fmt.Sprintf("the ```proto block at README.md:%d", line)
		}
		n, _ := strconv.Atoi(sub[2])
		return fmt.Sprintf("README.md:%d%s", line+n-1, sub[3])
	})
	return fmt.Errorf("%s", msg)
}
