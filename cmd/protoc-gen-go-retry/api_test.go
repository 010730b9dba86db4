package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// additions are the exported declarations that a generated file adds to
// protoc-gen-go-triple's, for each service: the effective policy of its
// methods.
var additions = []string{"func (GreetServiceImpl) RetryPolicy() (*dubboretry.Policy)"}

// TestReferenceAPI checks the drop-in promise (docs/design.md, "What it
// is"): for dubbo-go's greet.proto, the generated file declares exactly the
// exported API that protoc-gen-go-triple v3.3.2 declares, listed in
// testdata/reference/triple-api-greet.txt, and the additions.
func TestReferenceAPI(t *testing.T) {
	want := readAPI(t, "../../testdata/reference/triple-api-greet.txt")
	want = append(want, additions...)
	slices.Sort(want)
	src, err := os.ReadFile(goldenFile(goldenModule+"/reference", "greet.triple.go"))
	if err != nil {
		t.Fatal(err)
	}
	got := exportedAPI(t, src)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exported API differs from protoc-gen-go-triple's (-triple +generated):\n%s", diff)
	}

	// The listing drops the receivers' stars, which decide method sets.
	// protoc-gen-go-triple declares one method on a value receiver.
	var values []string
	f, err := parser.ParseFile(token.NewFileSet(), "", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range f.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv != nil {
			if id, ok := fn.Recv.List[0].Type.(*ast.Ident); ok {
				values = append(values, id.Name+"."+fn.Name.Name)
			}
		}
	}
	if want := []string{"GreetServiceGreetStreamServer.Recv"}; !slices.Equal(values, want) {
		t.Errorf("methods on value receivers: %v, want %v as protoc-gen-go-triple declares them", values, want)
	}
}

// readAPI reads a listing in the format of triple-api-greet.txt.
func readAPI(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	slices.Sort(lines)
	return lines
}

// exportedAPI lists the exported declarations of a Go file in the format of
// triple-api-greet.txt: one a line, parameter names dropped, sorted.
func exportedAPI(t *testing.T, src []byte) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	expr := func(e ast.Expr) string {
		var b bytes.Buffer
		if err := printer.Fprint(&b, fset, e); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	signature := func(ft *ast.FuncType) string {
		var params, results []string
		for _, p := range ft.Params.List {
			for range max(1, len(p.Names)) {
				params = append(params, expr(p.Type))
			}
		}
		if ft.Results != nil {
			for _, r := range ft.Results.List {
				for range max(1, len(r.Names)) {
					results = append(results, expr(r.Type))
				}
			}
		}
		return "(" + strings.Join(params, ", ") + ") (" + strings.Join(results, ", ") + ")"
	}

	var api []string
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil {
				api = append(api, "func "+d.Name.Name+signature(d.Type))
				continue
			}
			recv := d.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if ast.IsExported(expr(recv)) {
				api = append(api, "func ("+expr(recv)+") "+d.Name.Name+signature(d.Type))
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.ValueSpec:
					for _, name := range s.Names {
						if name.IsExported() {
							api = append(api, d.Tok.String()+" "+name.Name)
						}
					}
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					switch typ := s.Type.(type) {
					case *ast.InterfaceType:
						api = append(api, "type "+s.Name.Name+" interface")
						for _, m := range typ.Methods.List {
							api = append(api, "  "+s.Name.Name+"."+m.Names[0].Name+signature(m.Type.(*ast.FuncType)))
						}
					case *ast.StructType:
						api = append(api, "type "+s.Name.Name+" struct")
						for _, field := range typ.Fields.List {
							if len(field.Names) == 0 {
								api = append(api, "  "+s.Name.Name+" embeds "+expr(field.Type))
							}
						}
					default:
						api = append(api, "type "+s.Name.Name+" "+expr(s.Type))
					}
				}
			}
		}
	}
	slices.Sort(api)
	return api
}
