package gen

import "strings"

// Text from the request ends up in the generated file's comments: the
// .proto's own comments, its path, protoc's version. protoc passes comments
// through as it finds them, and a Go file that holds a NUL, a byte order
// mark or invalid UTF-8, even in a comment, does not parse; a line break
// would end a // comment, and gofmt takes a form feed or vertical tab for
// the end of a line. commentText makes such text safe, with U+FFFD for what
// cannot stay.

// commentText returns s fit for one line of a comment.
func commentText(s string) string {
	if isPrintableASCII(s) {
		return s // nearly always
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n', r == '\r':
			return ' '
		case r < ' ' && r != '\t', r == 0x7f, r == '\uFEFF':
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// isPrintableASCII reports whether s holds only printable ASCII and tabs.
func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c > '~' {
			return false
		}
	}
	return true
}
