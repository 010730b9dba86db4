package docs

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The README's routes: its install blocks, and its quick start.
type routes struct {
	published block // go install <module>/cmd/protoc-gen-go-retry@latest
	checkout  block // go mod edit -replace=<module>=<checkout>, and the rest
	// checkoutDir is where the README says the checkout is, as
	// ../protoc-gen-go-retry.
	checkoutDir string
	quickStart  []block // the ```sh blocks of the section "Quick start"
}

// readmeRoutes finds the README's routes.
func readmeRoutes(t *testing.T) routes {
	t.Helper()
	module, err := modulePath(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	readme := readDoc(t, "README.md")
	var r routes
	for _, b := range readme.blocks {
		cmds, err := b.commands()
		if b.lang != "sh" || err != nil {
			continue
		}
		for _, c := range cmds {
			switch {
			case slices.ContainsFunc(c.args, func(a string) bool { return strings.HasPrefix(a, module+"/cmd/protoc-gen-go-retry@") }):
				r.published = b
			case len(c.args) > 2 && c.args[0] == "go" && c.args[1] == "mod" && c.args[2] == "edit":
				for _, a := range c.args {
					if dir, ok := strings.CutPrefix(a, "-replace="+module+"="); ok {
						r.checkout, r.checkoutDir = b, dir
					}
				}
			}
		}
	}
	quickStart, ok := readme.section("Quick start")
	for _, b := range quickStart {
		if b.lang == "sh" {
			r.quickStart = append(r.quickStart, b)
		}
	}
	switch {
	case r.published.text == "":
		t.Fatalf("README.md installs the plugin nowhere with go install %s/cmd/protoc-gen-go-retry@latest", module)
	case r.checkout.text == "":
		t.Fatalf("README.md points a module at a checkout nowhere (go mod edit -replace=%s=DIR)", module)
	case !ok || len(r.quickStart) == 0:
		t.Fatal("README.md has no ```sh blocks under a heading Quick start")
	}
	return r
}

// routeBlocks returns the README's blocks that the install tests run, by
// their String.
func routeBlocks(t *testing.T) map[string]bool {
	r := readmeRoutes(t)
	run := map[string]bool{r.published.String(): true, r.checkout.String(): true}
	for _, b := range r.quickStart {
		run[b.String()] = true
	}
	return run
}
