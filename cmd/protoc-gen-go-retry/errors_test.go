package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// compile writes files (name: source) to a temporary directory and returns
// the request protoc would send for all of them with the parameter params.
func compile(t *testing.T, files map[string]string, params string) *pluginpb.CodeGeneratorRequest {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for name, src := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	req, err := protoc.Request([]string{dir}, names, params)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// wantError runs the plugin on req and checks that it reports want and
// writes nothing.
func wantError(t *testing.T, req *pluginpb.CodeGeneratorRequest, want string) {
	t.Helper()
	resp := generate(req)
	if got := resp.GetError(); got != want {
		t.Errorf("error:\n got: %s\nwant: %s", got, want)
	}
	if len(resp.File) != 0 {
		t.Errorf("wrote %d files along with the error, want none", len(resp.File))
	}
}

const header = `syntax = "proto3";
package shop.v1;
import "retry/v1/retry.proto";
option go_package = "example.com/shop/v1;shopv1";
message Req {}
message Resp {}
`

func TestOptionOnStreamingMethod(t *testing.T) {
	for _, tc := range []struct{ rpc, kind string }{
		{"rpc Watch(Req) returns (stream Resp) {\n    option (retry.v1.method).retries = 1;\n  }", "server streaming"},
		{"rpc Watch(stream Req) returns (Resp) {\n    option (retry.v1.method).retries = 1;\n  }", "client streaming"},
		{"rpc Watch(stream Req) returns (stream Resp) {\n    option (retry.v1.method) = {};\n  }", "bidirectional streaming"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			src := header + "service Shop {\n  " + tc.rpc + "\n}\n"
			req := compile(t, map[string]string{"shop.proto": src}, "")
			// Line 9, column 5: the option statement inside the rpc.
			wantError(t, req, "shop.proto:9:5: shop.v1.Shop.Watch: (retry.v1.method) is set on a "+tc.kind+
				" method; retry defaults apply to unary methods only")
		})
	}
}

func TestRetriesAboveCap(t *testing.T) {
	src := header + `option (retry.v1.file) = {retries: 12};
service Shop {
  option (retry.v1.service) = {retries: 11, idempotent_only: true};
  rpc Charge(Req) returns (Resp) {
    option (retry.v1.method).retries = 100;
  }
  rpc Browse(Req) returns (Resp) { option (retry.v1.method) = {retries: 10}; }
}
`
	const want = "shop.proto:7:1: shop.v1: (retry.v1.file).retries is 12, above max_retries=10 (raise the cap with the plugin parameter max_retries=N)\n" +
		"shop.proto:9:3: shop.v1.Shop: (retry.v1.service).retries is 11, above max_retries=10 (raise the cap with the plugin parameter max_retries=N)\n" +
		"shop.proto:11:5: shop.v1.Shop.Charge: (retry.v1.method).retries is 100, above max_retries=10 (raise the cap with the plugin parameter max_retries=N)"
	wantError(t, compile(t, map[string]string{"shop.proto": src}, ""), want)

	// The cap is a parameter.
	req := compile(t, map[string]string{"shop.proto": src}, "max_retries=100")
	if resp := generate(req); resp.Error != nil || len(resp.File) != 1 {
		t.Errorf("with max_retries=100: error %q, %d files; want no error, 1 file", resp.GetError(), len(resp.File))
	}
	req = compile(t, map[string]string{"shop.proto": src}, "max_retries=11")
	wantError(t, req, "shop.proto:7:1: shop.v1: (retry.v1.file).retries is 12, above max_retries=11 (raise the cap with the plugin parameter max_retries=N)\n"+
		"shop.proto:11:5: shop.v1.Shop.Charge: (retry.v1.method).retries is 100, above max_retries=11 (raise the cap with the plugin parameter max_retries=N)")
}

// Errors in several files of one request are reported together, by file
// and position.
func TestErrorsAcrossFiles(t *testing.T) {
	files := map[string]string{
		"b.proto": header + "service B {\n  rpc Go(Req) returns (Resp) { option (retry.v1.method).retries = 11; }\n}\n",
		"a.proto": "syntax = \"proto3\";\npackage a;\nimport \"retry/v1/retry.proto\";\noption go_package = \"example.com/a\";\n" +
			"message M {}\nservice A {\n  rpc S(stream M) returns (M) { option (retry.v1.method).retries = 1; }\n" +
			"  rpc T(M) returns (M) { option (retry.v1.method).retries = 12; }\n}\n",
	}
	wantError(t, compile(t, files, ""),
		"a.proto:7:33: a.A.S: (retry.v1.method) is set on a client streaming method; retry defaults apply to unary methods only\n"+
			"a.proto:8:26: a.A.T: (retry.v1.method).retries is 12, above max_retries=10 (raise the cap with the plugin parameter max_retries=N)\n"+
			"b.proto:8:32: shop.v1.B.Go: (retry.v1.method).retries is 11, above max_retries=10 (raise the cap with the plugin parameter max_retries=N)")
}

func TestBadParameters(t *testing.T) {
	src := header + "service Shop {\n  rpc Browse(Req) returns (Resp);\n}\n"
	for _, tc := range []struct{ params, want string }{
		{"foo=bar", `unknown parameter "foo": protoc-gen-go-retry takes paths, module, M<file>=<package>, max_retries and publish_defaults`},
		{"paths=source_relative,retries=3", `unknown parameter "retries": protoc-gen-go-retry takes paths, module, M<file>=<package>, max_retries and publish_defaults`},
		{"max_retries=lots", "parameter max_retries=lots: want a whole number from 0 to 2147483647"},
		{"max_retries=-1", "parameter max_retries=-1: want a whole number from 0 to 2147483647"},
		{"max_retries=", "parameter max_retries=: want a whole number from 0 to 2147483647"},
		{"max_retries=2147483648", "parameter max_retries=2147483648: want a whole number from 0 to 2147483647"},
		{"publish_defaults=maybe", "parameter publish_defaults=maybe: want true or false"},
		{"paths=sideways", `unknown path type "sideways": want "import" or "source_relative"`},
		{"module=example.org/elsewhere", `example.com/shop/v1/shop.triple.go: generated file does not match prefix "example.org/elsewhere"`},
		{"annotate_code", "parameter annotate_code: protoc-gen-go-retry writes no annotations"},
	} {
		t.Run(tc.params, func(t *testing.T) {
			wantError(t, compile(t, map[string]string{"shop.proto": src}, tc.params), tc.want)
		})
	}
}

// Without a location for the option, an error points at the method; without
// source info at all, it names the file alone.
func TestErrorPositionFallback(t *testing.T) {
	src := header + "service Shop {\n  rpc Watch(Req) returns (stream Resp) {\n    option (retry.v1.method).retries = 1;\n  }\n}\n"
	const msg = "shop.v1.Shop.Watch: (retry.v1.method) is set on a server streaming method; retry defaults apply to unary methods only"

	req := compile(t, map[string]string{"shop.proto": src}, "")
	info := req.ProtoFile[len(req.ProtoFile)-1].SourceCodeInfo
	// The method is service 0, method 0: path [6 0 2 0]; its options are
	// field 4 of the method.
	info.Location = slices.DeleteFunc(info.Location, func(loc *descriptorpb.SourceCodeInfo_Location) bool {
		return len(loc.Path) > 4 && slices.Equal(loc.Path[:5], []int32{6, 0, 2, 0, 4})
	})
	wantError(t, req, "shop.proto:8:3: "+msg)

	req.ProtoFile[len(req.ProtoFile)-1].SourceCodeInfo = nil
	wantError(t, req, "shop.proto: "+msg)
}

// A Go package name that is not an identifier would make the file
// unparsable; it is refused, pointing at go_package.
func TestGoPackageNameNotIdentifier(t *testing.T) {
	src := "syntax = \"proto3\";\npackage shop.v1;\noption go_package = \"example.com/shop;shop-v1\";\n" +
		"message Req {}\nservice Shop {\n  rpc Get(Req) returns (Req);\n}\n"
	wantError(t, compile(t, map[string]string{"shop.proto": src}, ""),
		`shop.proto:3:1: shop.v1: the Go package name "shop-v1" (from go_package or an M parameter) is not a Go identifier`)

	// The same name from an M parameter.
	src = "syntax = \"proto3\";\npackage shop.v1;\nmessage Req {}\nservice Shop {\n  rpc Get(Req) returns (Req);\n}\n"
	wantError(t, compile(t, map[string]string{"shop.proto": src}, "Mshop.proto=example.com/shop;shop-v1"),
		`shop.proto:2:1: shop.v1: the Go package name "shop-v1" (from go_package or an M parameter) is not a Go identifier`)
}

// A Go keyword as the Go package name is refused as one, and so is the
// blank identifier: neither can name a package.
func TestGoPackageNameKeyword(t *testing.T) {
	const msg = `shop.proto:3:1: shop.v1: the Go package name %q (from go_package or an M parameter) %s`
	for _, tc := range []struct{ goPackage, params, want string }{
		{"example.com/shop;type", "", fmt.Sprintf(msg, "type", "is a Go keyword")},
		{"example.com/shop;func", "", fmt.Sprintf(msg, "func", "is a Go keyword")},
		{"example.com/shop;go", "", fmt.Sprintf(msg, "go", "is a Go keyword")},
		{"example.com/shop;map", "", fmt.Sprintf(msg, "map", "is a Go keyword")},
		// The name alone, the import path coming from an M parameter.
		{";type", "Mshop.proto=example.com/shop", fmt.Sprintf(msg, "type", "is a Go keyword")},
		{"example.com/shop;_", "", fmt.Sprintf(msg, "_", "is the blank identifier, which cannot name a package")},
	} {
		t.Run(tc.goPackage, func(t *testing.T) {
			src := "syntax = \"proto3\";\npackage shop.v1;\noption go_package = \"" + tc.goPackage + "\";\n" +
				"message Req {}\nservice Shop {\n  rpc Get(Req) returns (Req);\n}\n"
			wantError(t, compile(t, map[string]string{"shop.proto": src}, tc.params), tc.want)
		})
	}

	// The name from an M parameter.
	src := "syntax = \"proto3\";\npackage shop.v1;\nmessage Req {}\nservice Shop {\n  rpc Get(Req) returns (Req);\n}\n"
	wantError(t, compile(t, map[string]string{"shop.proto": src}, "Mshop.proto=example.com/shop;type"),
		`shop.proto:2:1: shop.v1: the Go package name "type" (from go_package or an M parameter) is a Go keyword`)
}
