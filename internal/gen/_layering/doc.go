// Package layering is Go that protoc-gen-go-retry copies into the files it
// generates: the helpers through which the constructors of a generated file
// hand their options to dubbo-go, and which layer the .proto's retry policy
// between the client's settings and the caller's (docs/design.md,
// "Precedence" and "Timeouts").
//
// It is kept as a package of its own so that it is compiled, vetted and
// tested as Go, against the dubbo-go the generated code targets: the
// example module does that (example/internal/layering). The leading
// underscore of its directory keeps it out of this module's ./..., which
// has no dubbo-go.
//
// The generator embeds the files of this package and copies the
// declarations of each into a generated file: retries.go into every one,
// timeouts.go into those with a service whose .proto declares a timeout.
// Each name declared here becomes the file's own name for it (RetryOptions
// becomes file_greet_proto_retryOptions), and each imported package's name
// becomes the name the generated file gives the package. Doc comments are
// wrapped again for the new names, so they must be plain paragraphs;
// everything else is copied as it is, so it must stay as gofmt prints it.
package layering
