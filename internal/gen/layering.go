package gen

import (
	_ "embed"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/protobuf/compiler/protogen"
)

// layeringSource is the Go of the helper that layers the .proto's retry
// defaults between the client's settings and the caller's. It lives in a
// Go file of its own, which the example module compiles, vets and tests
// against dubbo-go; the generator copies its declarations into every file
// it writes, with the names substituted (see _layering/layering.go).
//
//go:embed _layering/layering.go
var layeringSource string

// emitRetryOptions writes the helper through which every constructor of
// the file hands its options to dubbo-go.
func emitRetryOptions(w *writer, f *file) {
	copyDecl(w, layering().decls["RetryOptions"], map[string]string{"RetryOptions": f.names.retryOptions})
}

// A template is a Go file whose declarations the generator copies.
type template struct {
	decls map[string]*templateDecl
}

// A templateDecl is a declaration of a template, ready to be copied: its
// doc comment, and its source cut where names are substituted.
type templateDecl struct {
	doc   []string       // the paragraphs of its doc comment, each on one line
	parts []templatePart // the declaration after the doc comment
}

// A templatePart is source text copied as it is, or a name substituted.
type templatePart struct {
	text  string
	ident protogen.GoIdent // a qualified identifier of an imported package
	decl  string           // a name the template declares
}

// layering returns the template of _layering/layering.go, parsed once.
var layering = sync.OnceValue(func() *template {
	t, err := parseTemplate(layeringSource)
	if err != nil {
		// The file is compiled into the plugin and built by the tests:
		// this is a bug of the plugin, not a problem of the input.
		panic("protoc-gen-go-retry: _layering/layering.go: " + err.Error())
	}
	return t
})

// parseTemplate cuts each top-level function of src into parts: the
// references to an imported package, and to the functions src declares,
// are where the generated file's names go.
func parseTemplate(src string) (*template, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "template.go", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	imports := make(map[string]protogen.GoImportPath)
	for _, spec := range file.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			return nil, err
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if spec.Name != nil {
			name = spec.Name.Name
		}
		imports[name] = protogen.GoImportPath(path)
	}
	t := &template{decls: make(map[string]*templateDecl)}
	for _, d := range file.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok {
			t.decls[fn.Name.Name] = nil
		}
	}
	offset := func(p token.Pos) int { return fset.Position(p).Offset }
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		type hole struct {
			start, end int
			part       templatePart
		}
		var holes []hole
		ast.Inspect(fn, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok {
					if path, ok := imports[x.Name]; ok {
						holes = append(holes, hole{offset(n.Pos()), offset(n.End()), templatePart{ident: path.Ident(n.Sel.Name)}})
						return false
					}
				}
			case *ast.Ident:
				if _, ok := t.decls[n.Name]; ok {
					holes = append(holes, hole{offset(n.Pos()), offset(n.End()), templatePart{decl: n.Name}})
				}
			}
			return true
		})
		slices.SortFunc(holes, func(a, b hole) int { return a.start - b.start })

		decl := new(templateDecl)
		for _, p := range strings.Split(strings.TrimSpace(fn.Doc.Text()), "\n\n") {
			decl.doc = append(decl.doc, strings.Join(strings.Fields(p), " "))
		}
		at := offset(fn.Pos())
		for _, h := range holes {
			decl.parts = append(decl.parts, templatePart{text: src[at:h.start]}, h.part)
			at = h.end
		}
		decl.parts = append(decl.parts, templatePart{text: src[at:offset(fn.End())]})
		t.decls[fn.Name.Name] = decl
	}
	return t, nil
}

// copyDecl writes d into the generated file, its doc comment wrapped again,
// with the names the template declares replaced by those of names and the
// imported packages qualified as the file names them.
func copyDecl(w *writer, d *templateDecl, names map[string]string) {
	rename := func(s string) string {
		for from, to := range names {
			s = strings.ReplaceAll(s, from, to)
		}
		return s
	}
	comment := new(doc)
	for _, p := range d.doc {
		comment.para().text(rename(p))
	}
	w.doc(comment)
	var b strings.Builder
	for _, p := range d.parts {
		switch {
		case p.decl != "":
			b.WriteString(names[p.decl])
		case p.ident.GoName != "":
			b.WriteString(w.qual(p.ident))
		default:
			b.WriteString(p.text)
		}
	}
	w.verbatim(b.String())
}
