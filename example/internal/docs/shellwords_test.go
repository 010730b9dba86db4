package docs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// A command is a simple command of a ```sh block: its words, after the
// VAR=value assignments before them, which are in env. Redirections are
// dropped.
type command struct {
	b    block
	line int // the doc's line it starts on
	env  []string
	args []string
}

func (c command) String() string {
	return fmt.Sprintf("%s:%d: %s", c.b.doc, c.line, strings.Join(slices.Concat(c.env, c.args), " "))
}

var (
	assignmentRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	redirectionRE = regexp.MustCompile(`^[0-9]*(>>?|<)(&[0-9]+)?$`) // its target is the next word, unless &N
	attachedRE    = regexp.MustCompile(`^[0-9]*(>>?|<)\S`)          // its target in the same word
)

// commands splits the script of a ```sh block into simple commands, as a
// POSIX shell would: at line ends (but after a backslash), ;, &&, ||, | and
// &, with quotes, comments and $( ) read as the shell reads them, far
// enough to tell the words apart.
func (b block) commands() ([]command, error) {
	var (
		cmds  []command
		words []string
		word  strings.Builder
		in    bool // a word is begun
		line  = b.line
		start = b.line
	)
	endWord := func() {
		if in {
			words = append(words, word.String())
			word.Reset()
			in = false
		}
	}
	endCommand := func() {
		endWord()
		if c := newCommand(b, start, words); len(c.env)+len(c.args) > 0 {
			cmds = append(cmds, c)
		}
		words = nil
		start = line
	}
	src := []rune(b.text)
	for i := 0; i < len(src); i++ {
		r := src[i]
		switch {
		case r == '\\' && i+1 < len(src) && src[i+1] == '\n':
			i++
			line++
		case r == '\\' && i+1 < len(src):
			i++
			word.WriteRune(src[i])
			in = true
		case r == '\n':
			endCommand()
			line++
			start = line
		case r == '#' && !in:
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case r == '\'' || r == '"':
			end := closing(src, i+1, r)
			if end < 0 {
				return nil, fmt.Errorf("%s: the quote %c is not closed", b.at(line-b.line+1), r)
			}
			line += strings.Count(string(src[i+1:end]), "\n")
			word.WriteString(string(src[i+1 : end]))
			in = true
			i = end
		case r == '$' && i+1 < len(src) && src[i+1] == '(':
			end := closing(src, i+2, ')')
			if end < 0 {
				return nil, fmt.Errorf("%s: the $( is not closed", b.at(line-b.line+1))
			}
			word.WriteString(string(src[i : end+1]))
			in = true
			i = end
		case r == ' ' || r == '\t':
			endWord()
		case r == ';' || r == '&' || r == '|':
			for i+1 < len(src) && (src[i+1] == '&' || src[i+1] == '|') {
				i++
			}
			if r == '&' && i > 0 && src[i-1] == '>' { // 2>&1
				word.WriteRune(r)
				continue
			}
			endCommand()
		default:
			word.WriteRune(r)
			in = true
		}
	}
	endCommand()
	return cmds, nil
}

// closing returns the index of the rune that closes what opened before
// from: the quote q, or the ) of a $(, counting nested parentheses.
func closing(src []rune, from int, q rune) int {
	depth := 0
	for i := from; i < len(src); i++ {
		switch {
		case q == '"' && src[i] == '\\':
			i++
		case q == ')' && src[i] == '(':
			depth++
		case src[i] == q && depth == 0:
			return i
		case src[i] == q:
			depth--
		}
	}
	return -1
}

// newCommand makes the command of words, which starts on the doc's line.
func newCommand(b block, line int, words []string) command {
	c := command{b: b, line: line}
	for len(words) > 0 && assignmentRE.MatchString(words[0]) {
		c.env, words = append(c.env, words[0]), words[1:]
	}
	for i := 0; i < len(words); i++ {
		switch w := words[i]; {
		case redirectionRE.MatchString(w):
			if !strings.Contains(w, "&") {
				i++
			}
		case attachedRE.MatchString(w):
		default:
			c.args = append(c.args, w)
		}
	}
	return c
}

func TestCommands(t *testing.T) {
	b := block{doc: "x.md", line: 10, text: "mkdir shop && cd shop   # a comment\n" +
		"go test ./cmd/x -run '^$' \\\n    -fuzz F\n" +
		"SHARED=1 scripts/a.sh; b 2>&1 | sed -E 's#a b#c#' >/dev/null\n" +
		"X=\"$(go list -m -f '{{.Dir}}' m)/options\"\n"}
	cmds, err := b.commands()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cmds {
		got = append(got, c.String())
	}
	want := []string{
		"x.md:10: mkdir shop",
		"x.md:10: cd shop",
		"x.md:11: go test ./cmd/x -run ^$ -fuzz F",
		"x.md:13: SHARED=1 scripts/a.sh",
		"x.md:13: b",
		"x.md:13: sed -E s#a b#c#",
		"x.md:14: X=$(go list -m -f '{{.Dir}}' m)/options",
	}
	if !slices.Equal(got, want) {
		t.Errorf("commands:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
