package gen

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// An optionError is a retry option the plugin refuses, with the position of
// the option in its .proto file.
type optionError struct {
	file      string
	line, col int // 1-based; 0 when the request carries no source info
	subject   string
	msg       string
}

// Error formats e as path.proto:LINE:COL: pkg.Service.Method: message, the
// form compilers use, so that editors can jump to it.
func (e *optionError) Error() string {
	var b strings.Builder
	b.WriteString(e.file)
	if e.line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.line, e.col)
	}
	b.WriteString(": ")
	if e.subject != "" {
		b.WriteString(e.subject)
		b.WriteString(": ")
	}
	b.WriteString(e.msg)
	return b.String()
}

// optionErrors are all the errors of one run, reported together so that a
// user fixes them in one pass.
type optionErrors []*optionError

// sort puts errs in the order of their positions.
func (errs optionErrors) sort() {
	slices.SortStableFunc(errs, func(a, b *optionError) int {
		return cmp.Or(cmp.Compare(a.file, b.file), cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col))
	})
}

func (errs optionErrors) Error() string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// A checker collects the errors in the retry options of one file.
type checker struct {
	file       *protogen.File
	maxRetries uint32
	errs       optionErrors
}

// errorf records an error about subject, positioned at the first of paths
// that the file has a location for.
func (c *checker) errorf(subject string, paths []protoreflect.SourcePath, format string, args ...any) {
	line, col := position(c.file, paths...)
	c.errs = append(c.errs, &optionError{
		file:    c.file.Desc.Path(),
		line:    line,
		col:     col,
		subject: subject,
		msg:     fmt.Sprintf(format, args...),
	})
}

// An optionSite is where the retry option of one level is declared: the
// element it is set on and the option's source path.
type optionSite struct {
	subject  string                    // the element, as errors name it: pkg.Service.Method
	option   string                    // the option, as errors name it: (retry.v1.method)
	path     protoreflect.SourcePath   // of the option
	fallback []protoreflect.SourcePath // where to point when the file has no location for the option
}

// paths returns where an error about the option points, best first.
func (at optionSite) paths() []protoreflect.SourcePath {
	return append([]protoreflect.SourcePath{at.path}, at.fallback...)
}

// fieldPaths returns where an error about one field of the option points,
// best first: the field, where the file records it, else the option.
func (at optionSite) fieldPaths(field int32) []protoreflect.SourcePath {
	return append([]protoreflect.SourcePath{childPath(at.path, field)}, at.paths()...)
}

// retryOption is what every level's option message has.
type retryOption interface {
	GetRetries() uint32
}

// check records what is wrong with the option of one level: err, the
// reason it could not be decoded, and values out of bounds. opt may be a
// nil message, for an option that is not set.
func (c *checker) check(at optionSite, opt retryOption, err error) {
	if err != nil {
		c.errorf(at.subject, at.paths(), "cannot read %s: %v", at.option, err)
		return
	}
	if retries := opt.GetRetries(); retries > c.maxRetries {
		c.errorf(at.subject, at.fieldPaths(retriesField),
			"%s.retries is %d, above max_retries=%d (raise the cap with the plugin parameter max_retries=N)",
			at.option, retries, c.maxRetries)
	}
}

// Field numbers in descriptor.proto, used to build the source path of an
// option.
const (
	packageField        = 2  // FileDescriptorProto.package
	fileOptionsField    = 8  // FileDescriptorProto.options
	syntaxField         = 12 // FileDescriptorProto.syntax
	serviceOptionsField = 3  // ServiceDescriptorProto.options
	methodOptionsField  = 4  // MethodDescriptorProto.options
	retriesField        = 1  // retries, in all three retry option messages
	goPackageField      = 11 // FileOptions.go_package
)

// childPath returns path extended by elems, sharing no memory with path.
func childPath(path protoreflect.SourcePath, elems ...int32) protoreflect.SourcePath {
	return append(slices.Clip(path), elems...)
}

// position returns the 1-based line and column of the first of paths that
// the file records a location for, or 0, 0 when it records none (a request
// without source info).
func position(f *protogen.File, paths ...protoreflect.SourcePath) (line, col int) {
	locs := f.Desc.SourceLocations()
	for _, path := range paths {
		if loc, ok := firstLocation(locs, path); ok {
			return loc.StartLine + 1, loc.StartColumn + 1
		}
	}
	return 0, 0
}

// firstLocation returns the location that comes first in the file among
// those at path or below it. An option written as
// `option (retry.v1.method).retries = 3;` is recorded below the extension's
// path, one written as `option (retry.v1.method) = {retries: 3};` at it.
func firstLocation(locs protoreflect.SourceLocations, path protoreflect.SourcePath) (protoreflect.SourceLocation, bool) {
	var best protoreflect.SourceLocation
	found := false
	for i := range locs.Len() {
		loc := locs.Get(i)
		if len(loc.Path) < len(path) || !slices.Equal(loc.Path[:len(path)], path) {
			continue
		}
		if !found || loc.StartLine < best.StartLine || (loc.StartLine == best.StartLine && loc.StartColumn < best.StartColumn) {
			best, found = loc, true
		}
	}
	return best, found
}
