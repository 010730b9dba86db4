// Package options bundles the .proto files that declare the retry options,
// laid out by import path, so that tools can compile protos that import
// "retry/v1/retry.proto" without a checkout of this repository.
//
// The Go types of the options themselves are in package retryv1
// (options/retry/v1).
package options

import "embed"

// FS holds retry/v1/retry.proto at its import path.
//
//go:embed retry/v1/retry.proto
var FS embed.FS

// RetryProto is the import path of the options file.
const RetryProto = "retry/v1/retry.proto"
