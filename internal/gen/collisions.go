package gen

import (
	"cmp"
	"fmt"
	"go/token"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/gofeaturespb"
)

// Generated names that meet. The .triple.go of a file declares its names
// (names.go) in the Go package of the file, next to what protoc-gen-go
// declares there for every .proto file of that package, and to the
// .triple.go of the package's other files. Two declarations of one name,
// or a declaration named like a package that one of the package's files
// imports, make Go that does not compile; collisions reports each as an
// error instead, naming both sides.
//
// What a package holds:
//
//   - the names of names.go, for every file with services of the package
//     in the request: those being generated now, and those that are not
//     (their .triple.go was written by another run, with the same names);
//     the Go methods of a service, in a scope of its own;
//   - what protoc-gen-go declares for every file of the package: message
//     and enum types, enum values and the enum's name and value maps,
//     oneof wrapper types, the default values of fields, extension
//     variables, the file's descriptor variable, the builders of the
//     hybrid and opaque APIs, and the declarations that an import public of
//     a file of another package forwards;
//   - the names under which the .pb.go and .triple.go files import other
//     packages, which no package-level name may take (the Go spec,
//     "Declarations and scope"). protogen names an import after the last
//     element of its path, and numbers the second of two imports of one
//     file with the same last element: this check sees the first.
//
// A collision is reported when at least one side is declared or imported
// by a .triple.go, and one side belongs to a file being generated: two
// declarations of protoc-gen-go are its own business. The error points at
// the later declaration; for an import, at the declaration. Two elements
// meet once, on the first name they share (a service's client interface
// before the rest), and the methods of two services that meet are not
// reported again.
//
// Every name of every file of the package is gathered, but nothing is
// formatted or positioned until two of them meet: the check costs a
// request without collisions little.

// A goName is a name that the generated code of a .proto file declares at
// package level (or, for a Go method, in a service's interfaces), or under
// which it imports a package.
type goName struct {
	key  nameKey
	kind string // what the name is: "client interface", "Go type"
	// elem is the element it is declared for: a *protogen.Service,
	// *protogen.Method, *protogen.Message, *protogen.Enum,
	// *protogen.EnumValue or *protogen.Field, a fileElem or a forwardElem.
	// For an import, the element whose type is in the package imported, or
	// a publicImport.
	elem any
	file *protogen.File // where elem is declared (or forwarded)
	ours bool           // declared or imported by the .triple.go

	// For an import: the package imported, and what elem refers to in it.
	imports protogen.GoImportPath
	role    string // "the request type"

	index     int // in the order of gathering
	line, col int // once positioned: see position
}

// A nameKey is a name in its scope: a Go package, or the interfaces of a
// service.
type nameKey struct {
	pkg     protogen.GoImportPath
	service *protogen.Service // nil for the package block
	name    string
}

// fileElem is the element of a file's own declarations: its descriptor
// variable.
type fileElem struct{ f *protogen.File }

// forwardElem is a declaration that the import public of file f, its
// import i, forwards from elem.
type forwardElem struct {
	f    *protogen.File
	i    int
	elem any
}

// publicImport is import i of file f, an import public.
type publicImport struct {
	f *protogen.File
	i int
}

// fileDependencyField is FileDescriptorProto.dependency, the imports of a
// file.
const fileDependencyField = 3

// collisions returns an error for every two generated names of one Go
// package that meet, among the packages of files, the files generated.
func collisions(plugin *protogen.Plugin, files []*file) optionErrors {
	generated := make(map[*protogen.File]*file, len(files))
	var pkgs []protogen.GoImportPath
	byPkg := make(map[protogen.GoImportPath][]*protogen.File)
	for _, f := range files {
		generated[f.File] = f
		if _, ok := byPkg[f.GoImportPath]; !ok {
			pkgs = append(pkgs, f.GoImportPath)
			byPkg[f.GoImportPath] = nil
		}
	}
	for _, f := range plugin.Files {
		if fs, ok := byPkg[f.GoImportPath]; ok {
			byPkg[f.GoImportPath] = append(fs, f)
		}
	}
	var errs optionErrors
	c := &collector{plugin: plugin, importNames: make(map[protogen.GoImportPath]string)}
	for _, pkg := range pkgs {
		c.names, c.imported = c.names[:0], make(map[importKey]bool)
		for _, f := range byPkg[pkg] {
			c.protocGenGo(f)
			switch m := generated[f]; {
			case m != nil:
				c.triple(f, m.services)
			case len(f.Services) > 0:
				// Not generated now: its .triple.go is another run's.
				services := make([]*service, len(f.Services))
				for i, s := range f.Services {
					svc := &service{Service: s, names: newServiceNames(s)}
					for _, m := range s.Methods {
						svc.methods = append(svc.methods, &method{Method: m, kind: kindOf(m), names: newMethodNames(s, m)})
					}
					services[i] = svc
				}
				c.triple(f, services)
			}
		}
		errs = append(errs, c.collisions(func(f *protogen.File) bool { return f.Generate })...)
	}
	return errs
}

// A collector gathers the names of one Go package.
type collector struct {
	plugin      *protogen.Plugin
	names       []goName
	imported    map[importKey]bool // the imports gathered
	importNames map[protogen.GoImportPath]string
}

// An importKey is the import of a package by the .pb.go or the .triple.go
// of a file.
type importKey struct {
	f    *protogen.File
	pkg  protogen.GoImportPath
	ours bool
}

func (c *collector) declare(f *protogen.File, scope *protogen.Service, name, kind string, elem any, ours bool) {
	c.names = append(c.names, goName{
		key: nameKey{f.GoImportPath, scope, name}, kind: kind, elem: elem, file: f, ours: ours, index: len(c.names),
	})
}

// importOf records that the generated file of f, the .triple.go if ours,
// imports the package of id, for elem.
func (c *collector) importOf(f *protogen.File, id protogen.GoIdent, role string, elem any, ours bool) {
	if id.GoImportPath == f.GoImportPath || c.imported[importKey{f, id.GoImportPath, ours}] {
		return
	}
	c.imported[importKey{f, id.GoImportPath, ours}] = true
	name, ok := c.importNames[id.GoImportPath]
	if !ok {
		name = importName(id.GoImportPath)
		c.importNames[id.GoImportPath] = name
	}
	c.names = append(c.names, goName{
		key: nameKey{pkg: f.GoImportPath, name: name}, elem: elem, file: f, ours: ours,
		imports: id.GoImportPath, role: role, index: len(c.names),
	})
}

// triple gathers the names that the .triple.go of f declares and imports.
func (c *collector) triple(f *protogen.File, services []*service) {
	for _, s := range services {
		for _, d := range s.names.declared() {
			c.declare(f, nil, d.name, d.kind, s.Service, true)
		}
		// A method of the client implementation, beside those of the
		// service's rpcs.
		c.declare(f, s.Service, s.names.RetryPolicy, "retry policy method", s.Service, true)
		for _, m := range s.methods {
			c.declare(f, s.Service, m.names.Method, "Go method name", m.Method, true)
			for _, d := range m.names.declared(m.kind.streaming()) {
				c.declare(f, nil, d.name, d.kind, m.Method, true)
			}
			c.importOf(f, m.Input.GoIdent, "the request type", m.Method, true)
			c.importOf(f, m.Output.GoIdent, "the response type", m.Method, true)
		}
	}
}

// protocGenGo gathers the names that protoc-gen-go declares and imports in
// the .pb.go of f.
func (c *collector) protocGenGo(f *protogen.File) {
	c.declare(f, nil, f.GoDescriptorIdent.GoName, "descriptor variable", fileElem{f}, false)
	pbDecls(f, func(name, kind string, elem any) { c.declare(f, nil, name, kind, elem, false) })
	walkFields(f, func(fd *protogen.Field) {
		if fd.Desc.IsExtension() {
			c.importOf(f, fd.Extendee.GoIdent, "the extendee", fd, false)
		}
		switch {
		case fd.Message != nil:
			c.importOf(f, fd.Message.GoIdent, "the type", fd, false)
		case fd.Enum != nil:
			c.importOf(f, fd.Enum.GoIdent, "the type", fd, false)
		}
	})

	// An import public of a file of another Go package declares that
	// file's exported declarations again, in this package.
	imports := f.Desc.Imports()
	for i := range imports.Len() {
		imp := imports.Get(i)
		from, ok := c.plugin.FilesByPath[imp.Path()]
		if !imp.IsPublic || !ok || from.GoImportPath == f.GoImportPath {
			continue
		}
		forwarded := false
		pbDecls(from, func(name, kind string, elem any) {
			if r, _ := utf8.DecodeRuneInString(name); unicode.IsUpper(r) {
				forwarded = true
				c.declare(f, nil, name, kind, forwardElem{f, i, elem}, false)
			}
		})
		if forwarded {
			c.importOf(f, from.GoDescriptorIdent, "", publicImport{f, i}, false)
		}
	}
}

// pbDecls calls decl with what protoc-gen-go declares for the elements of
// f, but its descriptor variable.
func pbDecls(f *protogen.File, decl func(name, kind string, elem any)) {
	enum := func(e *protogen.Enum) {
		decl(e.GoIdent.GoName, "Go type", e)
		decl(e.GoIdent.GoName+"_name", "name map", e)
		decl(e.GoIdent.GoName+"_value", "value map", e)
		for _, v := range e.Values {
			decl(v.GoIdent.GoName, "constant", v)
			if alias := v.PrefixedAlias.GoName; alias != "" && alias != v.GoIdent.GoName {
				decl(alias, "prefixed constant", v)
			}
		}
	}
	for _, e := range f.Enums {
		enum(e)
	}
	walkMessages(f.Messages, func(m *protogen.Message) {
		if m.Desc.IsMapEntry() {
			return // protoc-gen-go declares nothing for it
		}
		decl(m.GoIdent.GoName, "Go type", m)
		if m.APILevel == gofeaturespb.GoFeatures_API_HYBRID || m.APILevel == gofeaturespb.GoFeatures_API_OPAQUE {
			decl(m.GoIdent.GoName+"_builder", "builder type", m)
		}
		for _, fd := range m.Fields {
			if fd.Oneof != nil && !fd.Oneof.Desc.IsSynthetic() {
				name := fd.GoIdent.GoName
				if m.APILevel == gofeaturespb.GoFeatures_API_OPAQUE {
					// The opaque API does not export the wrappers.
					r, size := utf8.DecodeRuneInString(name)
					name = string(unicode.ToLower(r)) + name[size:]
				}
				decl(name, "oneof wrapper type", fd)
			}
			if fd.Desc.HasDefault() {
				decl("Default_"+m.GoIdent.GoName+"_"+fd.GoName, "default value", fd)
			}
		}
		for _, e := range m.Enums {
			enum(e)
		}
	})
	walkFields(f, func(fd *protogen.Field) {
		if fd.Desc.IsExtension() {
			decl("E_"+fd.GoIdent.GoName, "variable", fd)
		}
	})
}

// walkFields calls fn on every field and extension that f declares, map
// entries' included.
func walkFields(f *protogen.File, fn func(*protogen.Field)) {
	walkMessages(f.Messages, func(m *protogen.Message) {
		for _, fd := range m.Fields {
			fn(fd)
		}
		for _, x := range m.Extensions {
			fn(x)
		}
	})
	for _, x := range f.Extensions {
		fn(x)
	}
}

// walkMessages calls fn on each of messages and the messages nested in it,
// parents first.
func walkMessages(messages []*protogen.Message, fn func(*protogen.Message)) {
	for _, m := range messages {
		fn(m)
		walkMessages(m.Messages, fn)
	}
}

// importName is the name under which protogen imports the package at
// importPath into a generated file, unless another import of the file
// took it first: the last element of the path, made an identifier.
func importName(importPath protogen.GoImportPath) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return '_'
	}, path.Base(string(importPath)))
	if r, _ := utf8.DecodeRuneInString(s); token.Lookup(s).IsKeyword() || !unicode.IsLetter(r) {
		return "_" + s
	}
	return s
}

// A collision is two names that meet: at is where the error points, other
// what it names.
type collision struct{ at, other *goName }

// collisions returns the errors of the names of one package. generating
// reports whether a file is being generated: a collision is reported only
// when one of its sides is.
func (c *collector) collisions(generating func(*protogen.File) bool) optionErrors {
	var found []collision
	var pairs map[[2]any]bool
	report := func(at, other *goName, pair [2]any) {
		if !at.ours && !other.ours || !generating(at.file) && !generating(other.file) || pairs[pair] {
			return
		}
		if pairs == nil {
			pairs = make(map[[2]any]bool)
		}
		pairs[pair] = true
		found = append(found, collision{at, other})
	}

	// before[i] is the declaration of the name of c.names[i] gathered last
	// before it, or -1; last that of each name.
	before := make([]int, len(c.names))
	last := make(map[nameKey]int, len(c.names))
	for i := range c.names {
		d := &c.names[i]
		before[i] = -1
		if d.imports != "" {
			continue
		}
		j, ok := last[d.key]
		if ok {
			before[i] = j
		}
		last[d.key] = i
		for ; ok && j >= 0; j = before[j] {
			prev := &c.names[j]
			if prev.elem == d.elem {
				continue
			}
			a, b := prev, d
			if later(a, b) {
				a, b = b, a
			}
			report(b, a, [2]any{prev.elem, d.elem})
		}
	}
	// An import meets a declaration of the package in any file; the error
	// points at the declaration, which a rename can change.
	for i := range c.names {
		imp := &c.names[i]
		if imp.imports == "" {
			continue
		}
		j, ok := last[imp.key]
		for ; ok && j >= 0; j = before[j] {
			d := &c.names[j]
			report(d, imp, [2]any{d.elem, imp.imports})
		}
	}

	// Two services with one Go name declare all of the same names: their
	// methods of one name meet too, which says nothing more.
	var errs optionErrors
	for _, col := range found {
		if a, ok := col.at.elem.(*protogen.Method); ok {
			if b, ok := col.other.elem.(*protogen.Method); ok &&
				(pairs[[2]any{a.Parent, b.Parent}] || pairs[[2]any{b.Parent, a.Parent}]) {
				continue
			}
		}
		errs = append(errs, col.error())
	}
	return errs
}

// later reports whether a is declared after b: in a later file, or further
// down in the same one.
func later(a, b *goName) bool {
	a.position()
	b.position()
	return cmp.Or(
		cmp.Compare(a.file.Desc.Path(), b.file.Desc.Path()),
		cmp.Compare(a.line, b.line),
		cmp.Compare(a.col, b.col),
		cmp.Compare(a.index, b.index),
	) > 0
}

// fileLevel is where an error about the file as a whole points.
var fileLevel = []protoreflect.SourcePath{{packageField}, {syntaxField}, {}}

// position sets n.line and n.col, once: only names that meet need them.
func (n *goName) position() {
	if n.line != 0 || n.col != 0 {
		return
	}
	var paths []protoreflect.SourcePath
	switch e := n.elem.(type) {
	case fileElem:
		paths = fileLevel
	case forwardElem:
		paths = append([]protoreflect.SourcePath{{fileDependencyField, int32(e.i)}}, fileLevel...)
	case publicImport:
		paths = append([]protoreflect.SourcePath{{fileDependencyField, int32(e.i)}}, fileLevel...)
	default:
		_, _, loc := describe(e)
		paths = []protoreflect.SourcePath{loc.Path}
	}
	n.line, n.col = position(n.file, paths...)
	if n.line == 0 {
		n.col = -1 // positioned, at no position
	}
}

// where is the position of n, as a message names it.
func (n *goName) where() string {
	n.position()
	if n.line == 0 {
		return n.file.Desc.Path()
	}
	return fmt.Sprintf("%s:%d:%d", n.file.Desc.Path(), n.line, n.col)
}

// describe returns what elem is, as messages name it, "service pkg.S", the
// subject of an error positioned at it, and its location, for a descriptor
// of protogen.
func describe(elem any) (what, subject string, loc protogen.Location) {
	switch e := elem.(type) {
	case *protogen.Service:
		return "service", string(e.Desc.FullName()), e.Location
	case *protogen.Method:
		return "method", string(e.Desc.FullName()), e.Location
	case *protogen.Message:
		return "message", string(e.Desc.FullName()), e.Location
	case *protogen.Enum:
		return "enum", string(e.Desc.FullName()), e.Location
	case *protogen.EnumValue:
		// Named in its enum, though protobuf scopes it next to it.
		return "enum value", string(e.Parent.Desc.FullName().Append(e.Desc.Name())), e.Location
	case *protogen.Field:
		if e.Desc.IsExtension() {
			return "extension", string(e.Desc.FullName()), e.Location
		}
		return "field", string(e.Desc.FullName()), e.Location
	case fileElem:
		return "file " + e.f.Desc.Path(), string(e.f.Desc.Package()), protogen.Location{}
	case forwardElem:
		return "", string(e.f.Desc.Package()), protogen.Location{}
	case publicImport:
		return "", string(e.f.Desc.Package()), protogen.Location{}
	}
	panic(fmt.Sprintf("protoc-gen-go-retry: cannot describe %T", elem))
}

// owner returns the element of n, as the other side of a message names it:
// "service pkg.S".
func (n *goName) owner() string {
	switch e := n.elem.(type) {
	case fileElem:
		what, _, _ := describe(e)
		return what
	case forwardElem:
		return forwarded(e)
	case publicImport:
		return fmt.Sprintf("import public %q", e.f.Desc.Imports().Get(e.i).Path())
	}
	what, subject, _ := describe(n.elem)
	return what + " " + subject
}

// forwarded names the declaration that e forwards.
func forwarded(e forwardElem) string {
	what, subject, _ := describe(e.elem)
	return fmt.Sprintf("%s %s, forwarded by import public %q", what, subject, e.f.Desc.Imports().Get(e.i).Path())
}

func (col collision) error() *optionError {
	at, other := col.at, col.other
	at.position()
	_, subject, _ := describe(at.elem)
	note := ""
	if e, ok := at.elem.(forwardElem); ok {
		note = " (of " + forwarded(e) + ")"
	}
	var msg string
	if other.imports != "" {
		generated := path.Base(other.file.GeneratedFilenamePrefix) + ".pb.go"
		if other.ours {
			generated = path.Base(other.file.GeneratedFilenamePrefix) + ".triple.go"
		}
		reason := other.owner()
		if other.role != "" {
			reason = other.role + " of " + reason
		}
		what, _, _ := describe(at.elem)
		if what == "" || strings.HasPrefix(what, "file ") {
			what = "declaration"
		}
		msg = fmt.Sprintf("its %s %s%s is also the name under which %s imports %s, for %s (%s); rename the %s, or change the last element of that import path",
			at.kind, at.key.name, note, generated, other.imports, reason, other.where(), what)
	} else {
		msg = fmt.Sprintf("its %s %s%s is also the %s of %s (%s); rename one of them",
			at.kind, at.key.name, note, other.kind, other.owner(), other.where())
	}
	return &optionError{file: at.file.Desc.Path(), line: at.line, col: max(at.col, 0), subject: subject, msg: msg}
}
