package gen

import retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"

// Source names the option that supplied a method's .proto retry default.
type Source int

const (
	// NoDefault: nothing in the .proto sets the method's retries, so the
	// generated code leaves them to the client, as protoc-gen-go-triple's does.
	NoDefault Source = iota
	// MethodOption: the method's own (retry.v1.method).
	MethodOption
	// ServiceOption: the (retry.v1.service) of the method's service.
	ServiceOption
	// FileOption: the (retry.v1.file) of the method's file.
	FileOption
)

// Options are the retry options that can reach one method: its own, its
// service's and its file's. Any of them may be nil.
type Options struct {
	Method  *retryv1.MethodRetry
	Service *retryv1.ServiceRetry
	File    *retryv1.FileRetry
}

// Method says what resolution needs to know of a method besides its
// options.
type Method struct {
	// Streaming is true for client, server and bidirectional streams.
	Streaming bool
	// Idempotent is true when the method's idempotency_level is IDEMPOTENT
	// or NO_SIDE_EFFECTS.
	Idempotent bool
}

// Default is the .proto retry default of one method.
type Default struct {
	// Source is the option that supplied the default, or NoDefault.
	Source Source
	// Retries is the default, the retries after the first attempt. It is
	// meaningful only when Source is not NoDefault.
	Retries uint32
	// NotIdempotent is true when Source's option has idempotent_only and
	// the method is not idempotent: Retries is then 0 and Declared holds the
	// value the option gives idempotent methods.
	NotIdempotent bool
	Declared      uint32
}

// Resolve returns the .proto retry default of a method (docs/design.md,
// "Resolving a method's default"):
//
//  1. the method's own (retry.v1.method).retries, if set;
//  2. else the service's (retry.v1.service).retries, else the file's
//     (retry.v1.file).retries; when the option that supplies the value has
//     idempotent_only, a method that is not idempotent gets 0 instead;
//  3. else no default.
//
// Streaming methods take no service or file default. (A method option on a
// streaming method is an error, reported by the checks before emission;
// Resolve ignores it.)
func Resolve(m Method, opts Options) Default {
	if m.Streaming {
		return Default{}
	}
	if opts.Method != nil && opts.Method.Retries != nil {
		return Default{Source: MethodOption, Retries: opts.Method.GetRetries()}
	}
	if opts.Service != nil && opts.Service.Retries != nil {
		return fromLevel(ServiceOption, opts.Service.GetRetries(), opts.Service.GetIdempotentOnly(), m)
	}
	if opts.File != nil && opts.File.Retries != nil {
		return fromLevel(FileOption, opts.File.GetRetries(), opts.File.GetIdempotentOnly(), m)
	}
	return Default{}
}

// fromLevel is the default a service or file option gives m.
func fromLevel(src Source, retries uint32, idempotentOnly bool, m Method) Default {
	if idempotentOnly && !m.Idempotent {
		return Default{Source: src, NotIdempotent: true, Declared: retries}
	}
	return Default{Source: src, Retries: retries}
}
