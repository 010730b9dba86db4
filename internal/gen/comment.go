package gen

import (
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
)

// Text from the request ends up in the generated file's comments: the
// .proto's own comments, its path, protoc's version. protoc passes comments
// through as it finds them, and a Go file that holds a NUL, a byte order
// mark or invalid UTF-8, even in a comment, does not parse; a line break
// would end a // comment. The functions below make such text safe, with
// U+FFFD for what cannot stay.

// commentText returns s fit for one line of a comment.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r':
			return ' '
		case 0, '\uFEFF':
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// leadingComments returns the leading comments of a .proto element as //
// lines, without a final newline.
func leadingComments(c protogen.Comments) string {
	lines := strings.Split(strings.TrimSuffix(c.String(), "\n"), "\n")
	for i, line := range lines {
		lines[i] = commentText(line)
	}
	return strings.Join(lines, "\n")
}
