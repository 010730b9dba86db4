package docs

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/tempmod"
)

var pluginBinaries once[string]

// plugins builds protoc-gen-go-retry from source, and protoc-gen-go at the
// version of google.golang.org/protobuf the root module requires, once,
// into a directory of their own, and returns it: put it on PATH for protoc
// and buf.
func plugins(t *testing.T) string {
	t.Helper()
	return pluginBinaries.get(t, func() (string, error) {
		dir, err := sharedDir("docs-plugins")
		if err != nil {
			return "", err
		}
		if _, err := tempmod.BuildPlugin(dir); err != nil {
			return "", err
		}
		_, err = tempmod.Go(repoRoot, "build", "-o", filepath.Join(dir, "protoc-gen-go"), "google.golang.org/protobuf/cmd/protoc-gen-go")
		return dir, err
	})
}

// plugin returns the path of protoc-gen-go-retry, built from source.
func plugin(t *testing.T) string {
	t.Helper()
	return filepath.Join(plugins(t), "protoc-gen-go-retry")
}

// What protoc-gen-go-retry --help lists.
type help struct {
	params []string // the names of its parameters, as "max_retries" and "M"
	flags  []string // its flags, as "--write-options"
}

var pluginHelpText once[help]

var (
	// An entry of --help: two spaces, then its first column up to two
	// spaces more.
	helpEntryRE = regexp.MustCompile(`^  (\S+(?: \S+)*)`)
	helpFlagRE  = regexp.MustCompile(`--[a-z][a-z-]*`)
)

// pluginHelp runs protoc-gen-go-retry --help and reads its parameters (the
// entries after "Parameters") and its flags (after "Flags:").
func pluginHelp(t *testing.T) help {
	t.Helper()
	bin := plugin(t)
	return pluginHelpText.get(t, func() (help, error) {
		out, err := exec.Command(bin, "--help").Output()
		if err != nil {
			return help{}, err
		}
		var h help
		section := ""
		for _, line := range strings.Split(string(out), "\n") {
			switch {
			case strings.HasPrefix(line, "Parameters"):
				section = "params"
			case strings.HasPrefix(line, "Flags"):
				section = "flags"
			case line == "":
				section = ""
			}
			m := helpEntryRE.FindStringSubmatch(line)
			switch {
			case m == nil:
			case section == "params":
				h.params = append(h.params, strings.FieldsFunc(m[1], func(r rune) bool { return strings.ContainsRune("=[<", r) })[0])
			case section == "flags":
				h.flags = append(h.flags, helpFlagRE.FindAllString(m[1], -1)...)
			}
		}
		return h, nil
	})
}

var pluginVersionText once[string]

// pluginVersion returns the version protoc-gen-go-retry --version prints:
// the version a release of this checkout would be.
func pluginVersion(t *testing.T) string {
	t.Helper()
	bin := plugin(t)
	return pluginVersionText.get(t, func() (string, error) {
		out, err := exec.Command(bin, "--version").Output()
		f := strings.Fields(string(out))
		if err == nil && len(f) != 2 {
			err = fmt.Errorf("protoc-gen-go-retry --version printed %q", out)
		}
		if err != nil {
			return "", err
		}
		return f[1], nil
	})
}
