// Package options bundles the .proto files that declare the retry options,
// laid out by import path, so that tools can compile protos that import
// "retry/v1/retry.proto" without a checkout of this repository.
//
// The Go types of the options themselves are in package retryv1
// (options/retry/v1).
package options

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
)

// FS holds retry/v1/retry.proto at its import path.
//
//go:embed retry/v1/retry.proto
var FS embed.FS

// RetryProto is the import path of the options file.
const RetryProto = "retry/v1/retry.proto"

// A Release is the retry/v1/retry.proto that a release of this module
// shipped.
type Release struct {
	Version string // the module's version, as "v0.1.0"
	SHA256  string // of the file's content (see Hash), in lower-case hex
}

// Releases are the released versions of retry/v1/retry.proto, oldest first.
// The last is the file embedded in FS. protoc-gen-go-retry --write-options
// replaces a copy a user vendored that is one of these, and refuses to
// replace a copy edited by hand.
//
// When retry/v1/retry.proto changes, append the new file's hash (go test
// ./cmd/protoc-gen-go-retry prints it) with the version that will ship it.
// Never remove or change an entry: copies of that version are out there.
var Releases = []Release{
	{Version: "v0.1.0", SHA256: "ad0cccc3669d1b9334251fbd0977d30440aea129f35a75ea1925aafcc88c02b0"},
	{Version: "v0.2.0", SHA256: "ef7ec68fa527bd1afc3d66c844cb7a7e5d2afa825572ea2dcb8e05031a4d7ef9"},
	{Version: "v0.3.0", SHA256: "69e684b946ea0606bba5195048c3cfbadab0a3114b5be2c0f2418d5c0023e707"},
}

// Hash returns the SHA-256 of a retry.proto's content, in lower-case hex,
// with CRLF line ends read as LF, as a Windows checkout may have them.
func Hash(content []byte) string {
	sum := sha256.Sum256(bytes.ReplaceAll(content, []byte("\r\n"), []byte("\n")))
	return hex.EncodeToString(sum[:])
}

// Released returns the release that shipped a retry.proto with content, if
// any.
func Released(content []byte) (Release, bool) {
	h := Hash(content)
	for _, r := range Releases {
		if r.SHA256 == h {
			return r, true
		}
	}
	return Release{}, false
}
