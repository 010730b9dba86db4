package gen

import (
	"bytes"
	"go/doc/comment"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
)

// A writer builds a Go file as gofmt prints it.
//
// protogen would reformat the file: it parses every generated Go file and
// prints it again with go/printer, which took nine tenths of the plugin's
// time, five times what protoc-gen-go takes for a file of services. The
// writer writes the lines in their final form instead, so that the file
// needs no reformatting: it indents them by their braces, and the emitter
// aligns what gofmt aligns. The golden and fuzz tests check that gofmt
// changes nothing in any file the plugin writes (checkGofmt).
//
// protogen still names the imports: the writer qualifies identifiers with
// protogen.GeneratedFile.QualifiedGoIdent and lists the packages it used.
type writer struct {
	g       *protogen.GeneratedFile
	imports map[protogen.GoImportPath]string // import path: package name
	buf     []byte
	depth   int // of the line being written, in tabs
}

// newWriter returns a writer whose buffer fits about size bytes.
func newWriter(g *protogen.GeneratedFile, size int) *writer {
	return &writer{g: g, imports: make(map[protogen.GoImportPath]string), buf: make([]byte, 0, size)}
}

// P writes the concatenation of parts as one line, indented by the braces
// and parentheses that the lines before it opened: a line that starts with
// a closing one is indented one less, one that ends with an opening one
// indents the lines after it, and a case sits at the level of its switch.
// Comment lines do none of that.
func (w *writer) P(parts ...string) {
	first, last := byte(0), byte(0)
	for _, p := range parts {
		if p != "" {
			if first == 0 {
				first = p[0]
			}
			last = p[len(p)-1]
		}
	}
	if first == 0 {
		w.buf = append(w.buf, '\n')
		return
	}
	head := parts[slices.IndexFunc(parts, func(p string) bool { return p != "" })]
	comment := strings.HasPrefix(head, "//")
	if !comment && (first == '}' || first == ')') {
		w.depth--
	}
	indent := w.depth
	if !comment && (strings.HasPrefix(head, "case ") || head == "default:") {
		indent-- // a case sits at the level of its switch
	}
	for range indent {
		w.buf = append(w.buf, '\t')
	}
	for _, p := range parts {
		w.buf = append(w.buf, p...)
	}
	w.buf = append(w.buf, '\n')
	if !comment && (last == '{' || last == '(') {
		w.depth++
	}
}

// qual returns the name of id in the file, qualified by the name protogen
// gives its package, and records the import.
func (w *writer) qual(id protogen.GoIdent) string {
	s := w.g.QualifiedGoIdent(id)
	if pkg, _, ok := strings.Cut(s, "."); ok {
		if _, seen := w.imports[id.GoImportPath]; !seen {
			w.imports[id.GoImportPath] = pkg
		}
	}
	return s
}

// content returns the file: header, the package clause, the imports, and
// what P wrote.
func (w *writer) content(header []string, pkg protogen.GoPackageName) []byte {
	paths := make([]string, 0, len(w.imports))
	for path := range w.imports {
		paths = append(paths, string(path))
	}
	slices.Sort(paths)

	size := len(w.buf) + 64*len(paths) + 256
	out := make([]byte, 0, size)
	for _, line := range header {
		out = append(out, line...)
		out = append(out, '\n')
	}
	out = append(out, "\npackage "...)
	out = append(out, pkg...)
	out = append(out, '\n')
	if len(paths) > 0 {
		out = append(out, "\nimport (\n"...)
		for _, path := range paths {
			out = append(out, '\t')
			out = append(out, w.imports[protogen.GoImportPath(path)]...)
			out = append(out, ' ')
			out = strconv.AppendQuote(out, path)
			out = append(out, '\n')
		}
		out = append(out, ")\n"...)
	}
	if len(w.buf) > 0 {
		out = append(out, '\n')
		// Declarations end with a blank line, but the file ends with one
		// newline.
		out = append(out, bytes.TrimRight(w.buf, "\n")...)
		out = append(out, '\n')
	}
	return out
}

// A doc is a doc comment being put together: its lines as they follow //.
type doc []string

// line adds a line of the generator's own text.
func (d *doc) line(parts ...string) *doc {
	*d = append(*d, " "+strings.Join(parts, ""))
	return d
}

// text adds the generator's text, wrapped at about 80 columns.
func (d *doc) text(text string) *doc {
	const width = 77
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			d.line(line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		d.line(line)
	}
	return d
}

// para ends a paragraph.
func (d *doc) para() *doc {
	if len(*d) > 0 && (*d)[len(*d)-1] != "" {
		*d = append(*d, "")
	}
	return d
}

// comments adds the leading comments of a .proto element, as a paragraph
// of their own. A line that would read as a directive once it follows //,
// such as go:noinline or go:generate, is written after a space instead:
// text from a .proto must not instruct the compiler or go generate.
func (d *doc) comments(c protogen.Comments) *doc {
	if c == "" {
		return d
	}
	d.para()
	for _, line := range strings.Split(strings.TrimSuffix(string(c), "\n"), "\n") {
		if isDirective(line) {
			line = " " + line
		}
		*d = append(*d, line)
	}
	return d
}

// deprecated adds the deprecation notice, if deprecated.
func (d *doc) deprecated(deprecated bool) *doc {
	if deprecated {
		d.para().line("Deprecated: do not use.")
	}
	return d
}

// doc writes d as a comment, as gofmt prints it. gofmt reformats only a
// doc comment of a top-level declaration (docComment); an indented comment
// keeps the .proto's text as it is, made safe for a comment.
func (w *writer) doc(d *doc) {
	if len(*d) == 0 {
		return
	}
	if w.depth == 0 {
		for _, line := range docComment(*d) {
			w.P(line)
		}
		return
	}
	for _, line := range *d {
		w.P(strings.TrimRight("//"+commentText(line), " \t"))
	}
}

// A column is a line in two parts, which aligned lines up with the others.
type column struct{ key, value string }

// aligned writes lines whose values start in one column, the way gofmt
// aligns the = of a block of one-line specs and the values of one-line
// key-value pairs: each key is padded to the longest.
func (w *writer) aligned(lines ...column) {
	width := 0
	for _, l := range lines {
		width = max(width, len(l.key))
	}
	for _, l := range lines {
		w.P(l.key, strings.Repeat(" ", width-len(l.key)+1), l.value)
	}
}

// docComment returns a comment as gofmt prints a doc comment: raw holds
// its lines as they follow //. gofmt reformats a comment in front of a
// top-level declaration with go/doc/comment, which changes text that looks
// like a list, a heading or a code block; the generator's own comments are
// plain text, which it leaves alone, but the .proto's comments can be
// anything. The lines are first made safe for a comment (commentText).
func docComment(raw []string) []string {
	text := make([]string, len(raw))
	for i, line := range raw {
		text[i] = strings.TrimPrefix(strings.TrimRight(commentText(line), " \t"), " ")
	}
	if isPlainDoc(text) {
		out := make([]string, len(text))
		for i, line := range text {
			if line == "" {
				out[i] = "//"
			} else {
				out[i] = "// " + line
			}
		}
		return out
	}

	// What go/printer does to a doc comment (formatDocComment). It moves
	// directives to the end, but there are none: the generator's own lines
	// start with a space, and so do the .proto's lines that would read as
	// one (doc.comments).
	var b strings.Builder
	for _, line := range text {
		b.WriteString(line)
		b.WriteString("\n")
	}
	var p comment.Parser
	var pr comment.Printer
	formatted := string(pr.Comment(p.Parse(b.String())))
	var out []string
	for formatted != "" {
		var line string
		line, formatted, _ = strings.Cut(formatted, "\n")
		switch {
		case line == "":
			out = append(out, "//")
		case strings.HasPrefix(line, "\t"):
			out = append(out, "//"+line)
		default:
			out = append(out, "// "+line)
		}
	}
	return out
}

// isPlainDoc reports whether go/doc/comment would print a comment as it
// is: paragraphs of lines that start with no indentation, list marker,
// heading or link definition, none of them a line alone between blank
// lines (which could be an old-style heading), with single blank lines
// between them. It errs on the side of false, which costs only time.
func isPlainDoc(text []string) bool {
	n := len(text)
	if n == 0 || text[0] == "" || text[n-1] == "" {
		return false
	}
	for i, line := range text {
		if line == "" {
			if text[i-1] == "" {
				return false
			}
			continue
		}
		switch c := line[0]; {
		case c == ' ', c == '\t', c == '-', c == '*', c == '+', c == '#', c == '[', c >= '0' && c <= '9':
			return false
		}
		if strings.HasPrefix(line, "\u2022") || strings.ContainsRune(line, '\t') {
			return false
		}
		if i > 0 && text[i-1] == "" && i+1 < n && text[i+1] == "" {
			if last := line[len(line)-1]; last != '.' && last != ':' {
				return false
			}
		}
	}
	return true
}

// isDirective reports whether a comment line (without its //) is a
// directive, such as go:generate, which gofmt moves to the end of a doc
// comment. It is go/printer's rule.
func isDirective(c string) bool {
	if strings.HasPrefix(c, "line ") || strings.HasPrefix(c, "extern ") || strings.HasPrefix(c, "export ") {
		return true
	}
	colon := strings.Index(c, ":")
	if colon <= 0 || colon+1 >= len(c) {
		return false
	}
	for i := 0; i <= colon+1; i++ {
		if i == colon {
			continue
		}
		if b := c[i]; !('a' <= b && b <= 'z' || '0' <= b && b <= '9') {
			return false
		}
	}
	return true
}
