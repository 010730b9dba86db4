package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/pluginpb"
)

// thinImports are the packages a generated file may import: those of
// protoc-gen-go-triple's code, the runtime, and the standard library's
// (docs/design.md, "The generated code and the runtime"). Request and
// response types add their own packages.
var thinImports = map[string]bool{
	"context":                             true,
	"net/http":                            true,
	"time":                                true,
	"dubbo.apache.org/dubbo-go/v3":        true,
	"dubbo.apache.org/dubbo-go/v3/client": true,
	"dubbo.apache.org/dubbo-go/v3/common": true,
	"dubbo.apache.org/dubbo-go/v3/common/constant":                 true,
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol": true,
	"dubbo.apache.org/dubbo-go/v3/server":                          true,
	"github.com/dubbo-retry/protoc-gen-go-retry/dubboretry":        true,
}

// checkThin checks that a generated file is data and the triple API: it
// carries the runtime's handshake, declares no function but the exported
// API's and at most an init that registers, and imports no package of
// dubbo-go that protoc-gen-go-triple's code does not.
func checkThin(t *testing.T, f *pluginpb.CodeGeneratorResponse_File) {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), f.GetName(), f.GetContent(), 0)
	if err != nil {
		t.Errorf("%s: %v", f.GetName(), err)
		return
	}
	for _, spec := range file.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		if !thinImports[path] && (strings.HasPrefix(path, "dubbo.apache.org/") ||
			strings.HasPrefix(path, "github.com/dubbo-retry/protoc-gen-go-retry/") && !strings.Contains(path, "/testdata/")) {
			t.Errorf("%s imports %s", f.GetName(), path)
		}
	}
	handshake := false
	for _, decl := range file.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			checkFunc(t, f.GetName(), d)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.ValueSpec:
					if sel, ok := singleValue(s).(*ast.SelectorExpr); ok && d.Tok == token.CONST &&
						sel.Sel.Name == "SupportPackageIsVersion1" && isIdent(sel.X, "dubboretry") {
						handshake = true
					}
				case *ast.TypeSpec:
					if strings.HasPrefix(s.Name.Name, "file_") || !s.Name.IsExported() {
						t.Errorf("%s declares the type %s", f.GetName(), s.Name.Name)
					}
				}
			}
		}
	}
	if !handshake {
		t.Errorf("%s lacks const _ = dubboretry.SupportPackageIsVersion1", f.GetName())
	}
}

// checkFunc checks that d is a function of the triple API (a constructor,
// a registration function, an exported method of a generated type) or an init that
// only registers.
func checkFunc(t *testing.T, name string, d *ast.FuncDecl) {
	t.Helper()
	switch {
	case d.Recv != nil && d.Name.IsExported():
	case d.Name.Name == "init" && d.Recv == nil:
		if len(d.Body.List) > 2 {
			t.Errorf("%s: init has %d statements, want a line or two of registration", name, len(d.Body.List))
		}
	case !d.Name.IsExported():
		t.Errorf("%s declares the helper function %s", name, d.Name.Name)
	}
}

func singleValue(s *ast.ValueSpec) ast.Expr {
	if len(s.Values) != 1 {
		return nil
	}
	return s.Values[0]
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
