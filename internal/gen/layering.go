package gen

import (
	"embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"google.golang.org/protobuf/compiler/protogen"
)

// The layering helpers are Go files of their own, which the example
// module compiles, vets and tests against dubbo-go; the generator copies
// their declarations into the files it writes, with the names substituted
// (see _layering/doc.go).
//
//go:embed _layering/retries.go _layering/methods.go _layering/timeouts.go _layering/publish.go
var layeringFiles embed.FS

// emitLayering writes the helpers through which the constructors of f hand
// their options to dubbo-go, and what else f needs (docs/design.md,
// "Precedence", "Timeouts" and "Registries").
func emitLayering(w *writer, cfg Config, f *file) {
	names := f.names.templateNames()
	templates := layering()
	copyTemplate(w, templates["retries.go"], names)
	publish := cfg.PublishDefaults && slices.ContainsFunc(f.services, func(s *service) bool { return len(s.published()) > 0 })
	if f.hasTimeouts() || publish {
		w.P()
		copyTemplate(w, templates["methods.go"], names)
	}
	if f.hasTimeouts() {
		w.P()
		copyTemplate(w, templates["timeouts.go"], names)
	}
	if publish {
		w.P()
		copyTemplate(w, templates["publish.go"], names)
		w.P()
		emitPublish(w, f)
	}
}

// A template is a Go file whose declarations the generator copies, in
// order.
type template []*templateDecl

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

// layering returns the templates of _layering, by file name, parsed once.
var layering = sync.OnceValue(func() map[string]template {
	templates, err := parseTemplates(layeringFiles, "_layering")
	if err != nil {
		// The files are compiled into the plugin and built by the tests:
		// this is a bug of the plugin, not a problem of the input.
		panic("protoc-gen-go-retry: " + err.Error())
	}
	return templates
})

// parseTemplates parses the Go files of one package, in dir of fsys, and
// cuts each top-level declaration into parts: the references to an
// imported package, and to the names the package declares, are where the
// generated file's names go.
func parseTemplates(fsys fs.FS, dir string) (map[string]template, error) {
	fset := token.NewFileSet()
	files := make(map[string]*ast.File)
	sources := make(map[string]string)
	declared := make(map[string]bool)
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		src, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, path.Join(dir, e.Name()), src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		files[e.Name()], sources[e.Name()] = f, string(src)
		for _, obj := range f.Scope.Objects {
			declared[obj.Name] = true
		}
	}
	templates := make(map[string]template)
	for name, f := range files {
		t, err := cutTemplate(fset, f, sources[name], declared)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path.Join(dir, name), err)
		}
		templates[name] = t
	}
	return templates, nil
}

// cutTemplate cuts the declarations of file, parsed from src, into parts.
func cutTemplate(fset *token.FileSet, file *ast.File, src string, declared map[string]bool) (template, error) {
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
	offset := func(p token.Pos) int { return fset.Position(p).Offset }

	var t template
	for _, d := range file.Decls {
		var doc *ast.CommentGroup
		switch d := d.(type) {
		case *ast.FuncDecl:
			doc = d.Doc
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				continue
			}
			doc = d.Doc
		}
		type hole struct {
			start, end int
			part       templatePart
		}
		var holes []hole
		ast.Inspect(d, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CommentGroup:
				return false
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok {
					if path, ok := imports[x.Name]; ok {
						holes = append(holes, hole{offset(n.Pos()), offset(n.End()), templatePart{ident: path.Ident(n.Sel.Name)}})
						return false
					}
				}
			case *ast.Ident:
				if declared[n.Name] {
					holes = append(holes, hole{offset(n.Pos()), offset(n.End()), templatePart{decl: n.Name}})
				}
			}
			return true
		})
		slices.SortFunc(holes, func(a, b hole) int { return a.start - b.start })

		decl := new(templateDecl)
		if doc != nil {
			for _, p := range strings.Split(strings.TrimSpace(doc.Text()), "\n\n") {
				decl.doc = append(decl.doc, strings.Join(strings.Fields(p), " "))
			}
		}
		at := offset(d.Pos())
		for _, h := range holes {
			decl.parts = append(decl.parts, templatePart{text: src[at:h.start]}, h.part)
			at = h.end
		}
		decl.parts = append(decl.parts, templatePart{text: src[at:offset(d.End())]})
		t = append(t, decl)
	}
	return t, nil
}

// copyTemplate writes the declarations of t into the generated file, each
// after a blank line, their doc comments wrapped again, with the names the
// template declares replaced by those of names and the imported packages
// qualified as the file names them.
func copyTemplate(w *writer, t template, names map[string]string) {
	for i, d := range t {
		if i > 0 {
			w.P()
		}
		comment := new(doc)
		for _, p := range d.doc {
			comment.para().text(renameWords(p, names))
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
}

// renameWords replaces each word of text that names holds by its value.
func renameWords(text string, names map[string]string) string {
	isIdent := func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	var b strings.Builder
	for text != "" {
		i := strings.IndexFunc(text, isIdent)
		if i < 0 {
			b.WriteString(text)
			break
		}
		b.WriteString(text[:i])
		text = text[i:]
		j := strings.IndexFunc(text, func(r rune) bool { return !isIdent(r) })
		if j < 0 {
			j = len(text)
		}
		word := text[:j]
		if name, ok := names[word]; ok {
			word = name
		}
		b.WriteString(word)
		text = text[j:]
	}
	return b.String()
}
