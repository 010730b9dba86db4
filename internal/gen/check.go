package gen

import (
	"cmp"
	"fmt"
	"go/token"
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"

	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
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

// fieldPaths returns where an error about a field of the option points,
// best first: the field, at path below the option, where the file records
// it, else the message that holds it, and so on up to the option.
func (at optionSite) fieldPaths(path ...int32) []protoreflect.SourcePath {
	var paths []protoreflect.SourcePath
	for n := len(path); n > 0; n-- {
		paths = append(paths, childPath(at.path, path[:n]...))
	}
	return append(paths, at.paths()...)
}

// retryOption is what the option messages of all three levels have.
type retryOption interface {
	proto.Message
	GetRetries() uint32
	GetTimeout() *durationpb.Duration
	GetRetryOn() []retryv1.Code
	GetBackoff() *retryv1.Backoff
	GetHedging() *retryv1.Hedging
}

// check records what is wrong with the option of one level: err, the
// reason it could not be decoded, fields this plugin does not know, values
// that are not finite, and values out of bounds. opt may be a nil message,
// for an option that is not set.
func (c *checker) check(at optionSite, opt retryOption, err error) {
	if err != nil {
		c.errorf(at.subject, at.paths(), "cannot read %s: %v", at.option, err)
		return
	}
	if !opt.ProtoReflect().IsValid() {
		return
	}
	c.checkFields(at, at.option, nil, opt.ProtoReflect())
	if retries := opt.GetRetries(); retries > c.maxRetries {
		c.errorf(at.subject, at.fieldPaths(retriesField),
			"%s.retries is %d, above max_retries=%d (raise the cap with the plugin parameter max_retries=N)",
			at.option, retries, c.maxRetries)
	}
	if t := opt.GetTimeout(); t != nil {
		c.checkPositive(at, at.option+".timeout", t, timeoutField)
	}
	c.checkRetryOn(at, opt.GetRetryOn())
	if b := opt.GetBackoff(); b != nil {
		c.checkBackoff(at, b)
	}
	if h := opt.GetHedging(); h != nil {
		c.checkHedging(at, h)
	}
	if b, ok := opt.(interface{ GetBudget() *retryv1.Budget }); ok && b.GetBudget() != nil {
		if r := b.GetBudget().GetRatio(); finite(r) && !(r > 0 && r <= 1) {
			c.errorf(at.subject, at.fieldPaths(budgetField, budgetRatioField),
				"%s.budget.ratio is %v; it must be more than 0 and at most 1", at.option, r)
		}
	}
}

// checkHedging records what is wrong with the hedging of an option.
func (c *checker) checkHedging(at optionSite, h *retryv1.Hedging) {
	name := at.option + ".hedging"
	if n := h.GetMaxAttempts(); n < 2 || n > 5 {
		c.errorf(at.subject, at.fieldPaths(hedgingField, hedgingMaxAttemptsField),
			"%s.max_attempts is %d; it must be 2 to 5, the copies of the call in all, the first included", name, n)
	}
	delay, percentile := h.Delay != nil, h.GetDelayPercentile() != 0
	switch {
	case delay && percentile:
		c.errorf(at.subject, at.fieldPaths(hedgingField, hedgingDelayPercentileField),
			"%s sets both delay and delay_percentile; set one: a fixed delay, or a percentile of the method's latencies", name)
	case !delay && !percentile:
		c.errorf(at.subject, at.fieldPaths(hedgingField),
			"%s sets neither delay nor delay_percentile; set one: a fixed delay, or a percentile of the method's latencies", name)
	case delay:
		c.checkPositive(at, name+".delay", h.GetDelay(), hedgingField, hedgingDelayField)
	case finite(h.GetDelayPercentile()) && !(h.GetDelayPercentile() > 0 && h.GetDelayPercentile() < 100):
		c.errorf(at.subject, at.fieldPaths(hedgingField, hedgingDelayPercentileField),
			"%s.delay_percentile is %v; it must be more than 0 and less than 100", name, h.GetDelayPercentile())
	}
}

// checkMethodHedging records what is wrong with the hedging a method's own
// option gives it: hedging next to retries, which are exclusive, or on a
// method that is not declared safe to run more than once at a time.
func (c *checker) checkMethodHedging(at optionSite, opt *retryv1.MethodRetry, idempotent bool) {
	if opt.GetHedging() == nil {
		return
	}
	if opt.Retries != nil {
		c.errorf(at.subject, at.fieldPaths(hedgingField),
			"%s sets both retries and hedging; a method has one or the other", at.option)
	}
	if !idempotent {
		c.errorf(at.subject, at.fieldPaths(hedgingField),
			"%s.hedging is set on a method whose idempotency_level is neither IDEMPOTENT nor NO_SIDE_EFFECTS;"+
				" hedged copies of a call run at the same time, so only a method safe to repeat may be hedged", at.option)
	}
}

// checkPositive records an error unless d, the field at path below the
// option, is a valid and positive duration. It reports whether d is.
func (c *checker) checkPositive(at optionSite, name string, d *durationpb.Duration, path ...int32) bool {
	if problem := durationProblem(d); problem != "" {
		c.errorf(at.subject, at.fieldPaths(path...), "%s is not a valid duration: %s", name, problem)
		return false
	}
	if d.AsDuration() <= 0 {
		c.errorf(at.subject, at.fieldPaths(path...), "%s is %v; it must be positive", name, d.AsDuration())
		return false
	}
	return true
}

// durationProblem says what makes d invalid, as google/protobuf/duration.proto
// defines it, or returns "".
func durationProblem(d *durationpb.Duration) string {
	const maxSeconds = 315576000000 // about 10,000 years
	secs, nanos := d.GetSeconds(), d.GetNanos()
	switch {
	case secs < -maxSeconds || secs > maxSeconds:
		return "seconds is out of range (about 10,000 years either way)"
	case nanos <= -1e9 || nanos >= 1e9:
		return "nanos is out of range (less than a second either way)"
	case (secs > 0 && nanos < 0) || (secs < 0 && nanos > 0):
		return "seconds and nanos have different signs"
	}
	return ""
}

func (c *checker) checkRetryOn(at optionSite, codes []retryv1.Code) {
	seen := make(map[retryv1.Code]bool, len(codes))
	for i, code := range codes {
		paths := at.fieldPaths(retryOnField, int32(i))
		_, known := retryv1.Code_name[int32(code)]
		switch {
		case code == retryv1.Code_CODE_UNSPECIFIED:
			c.errorf(at.subject, paths, "%s.retry_on lists CODE_UNSPECIFIED, which is not a code", at.option)
		case !known:
			c.errorf(at.subject, paths, "%s.retry_on lists %d, which is not a Triple code (1 to 16)", at.option, code)
		case seen[code]:
			c.errorf(at.subject, paths, "%s.retry_on lists %v more than once", at.option, code)
		}
		seen[code] = true
	}
}

func (c *checker) checkBackoff(at optionSite, b *retryv1.Backoff) {
	name := at.option + ".backoff"
	initialOK := false
	if b.GetInitial() == nil {
		c.errorf(at.subject, at.fieldPaths(backoffField), "%s.initial is missing; a backoff needs its first delay", name)
	} else {
		initialOK = c.checkPositive(at, name+".initial", b.GetInitial(), backoffField, backoffInitialField)
	}
	if m := b.GetMax(); m != nil && c.checkPositive(at, name+".max", m, backoffField, backoffMaxField) && initialOK &&
		m.AsDuration() < b.GetInitial().AsDuration() {
		c.errorf(at.subject, at.fieldPaths(backoffField, backoffMaxField),
			"%s.max is %v, less than initial (%v)", name, m.AsDuration(), b.GetInitial().AsDuration())
	}
	if m := b.GetMultiplier(); m != 0 && finite(m) && m < 1 {
		c.errorf(at.subject, at.fieldPaths(backoffField, backoffMultiplierField),
			"%s.multiplier is %v; it must be at least 1 (or unset, for 2)", name, m)
	}
}

// checkFields records what is wrong with m, the option or a message at path
// below it (name, in errors), and with every message m holds, at any depth:
//
//   - fields that the retry.proto this plugin was built with does not
//     declare: the .proto was compiled against an edited or newer
//     retry.proto, and a policy this plugin cannot apply must not be
//     dropped silently;
//   - floating-point values that are infinite or NaN, which no policy means
//     and which the generated Go could not even spell.
//
// It walks the messages rather than naming their fields so that every
// field a later retry.proto adds is checked too. The name of a field is
// built on the way down: a message's descriptor knows its own fields, not
// the path that leads to it.
func (c *checker) checkFields(at optionSite, name string, path []int32, m protoreflect.Message) {
	for _, num := range unknownFields(m.GetUnknown()) {
		if len(path) == 0 && num == budgetField && m.Descriptor().FullName() == "retry.v1.MethodRetry" {
			c.errorf(at.subject, at.fieldPaths(int32(num)),
				"%s sets a budget; a budget caps the retries of a whole service: set it in (retry.v1.service) or (retry.v1.file)", name)
			continue
		}
		c.errorf(at.subject, at.fieldPaths(append(slices.Clip(path), int32(num))...),
			"%s has field %d, which retry/v1/retry.proto does not declare for this plugin: the .proto was compiled"+
				" against an edited or newer retry.proto (use the one protoc-gen-go-retry --write-options writes, or a newer plugin)",
			name, num)
	}
	// In the order of the schema, not Range's, which is undefined: errors
	// at one position keep the order they are recorded in.
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		fieldName, fieldPath := name+"."+string(fd.Name()), append(slices.Clip(path), int32(fd.Number()))
		switch v := m.Get(fd); {
		case fd.IsList():
			// The source path of an element goes on with its index, as
			// retry_on's do.
			for j := range v.List().Len() {
				c.checkValue(at, fmt.Sprintf("%s[%d]", fieldName, j), append(slices.Clip(fieldPath), int32(j)), fd, v.List().Get(j))
			}
		case !fd.IsMap(): // retry.proto declares no maps
			c.checkValue(at, fieldName, fieldPath, fd, v)
		}
	}
}

// checkValue records what is wrong with v, a value of field fd at path
// below the option that errors call name.
func (c *checker) checkValue(at optionSite, name string, path []int32, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		c.checkFields(at, name, path, v.Message())
	case protoreflect.DoubleKind, protoreflect.FloatKind:
		if x := v.Float(); !finite(x) {
			c.errorf(at.subject, at.fieldPaths(path...), "%s is %v; it must be a finite number", name, x)
		}
	}
}

// finite reports whether x is neither infinite nor NaN. checkFields
// reports the values that are not, and the range checks pass over them so
// that each bad value is reported once.
func finite(x float64) bool {
	return !math.IsInf(x, 0) && !math.IsNaN(x)
}

// goPackageNameProblem says what keeps name from being the name of a Go
// package, for an error that goes on from "the Go package name": a file
// with services is generated into the package, and a package clause with
// such a name would not compile. It returns "" for a good name.
func goPackageNameProblem(name string) string {
	switch {
	case token.IsKeyword(name):
		return "is a Go keyword"
	case !token.IsIdentifier(name):
		return "is not a Go identifier"
	case name == "_":
		return "is the blank identifier, which cannot name a package"
	}
	return ""
}

// Field numbers in descriptor.proto, used to build the source path of an
// option.
const (
	packageField        = 2  // FileDescriptorProto.package
	fileOptionsField    = 8  // FileDescriptorProto.options
	syntaxField         = 12 // FileDescriptorProto.syntax
	serviceOptionsField = 3  // ServiceDescriptorProto.options
	methodOptionsField  = 4  // MethodDescriptorProto.options
	goPackageField      = 11 // FileOptions.go_package

	// Field numbers in retry.proto: the retry option messages, Backoff,
	// Budget and Hedging.
	retriesField                = 1
	timeoutField                = 3
	retryOnField                = 4
	backoffField                = 5
	budgetField                 = 6
	hedgingField                = 7
	backoffInitialField         = 1
	backoffMaxField             = 2
	backoffMultiplierField      = 3
	budgetRatioField            = 1
	hedgingMaxAttemptsField     = 1
	hedgingDelayField           = 2
	hedgingDelayPercentileField = 3
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
