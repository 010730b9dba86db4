package docs

import (
	"fmt"
	"path"
	"testing"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/protoc"
)

// Each ```proto block marked <!-- invalid: NAME.proto --> makes
// protoc-gen-go-retry fail, written as NAME.proto with retry/v1/retry.proto
// on the import path, and the next block of the doc is what protoc then
// prints: "--go-retry_out: " and the plugin's error, every line of it.
func TestInvalidBlocks(t *testing.T) {
	for _, d := range allDocs(t) {
		for i, b := range d.blocks {
			if b.marker.kind != "invalid" {
				continue
			}
			if err := checkInvalid(t, d, i); err != nil {
				t.Error(err)
			}
		}
	}
}

// checkInvalid checks the invalid example d.blocks[i] and the error shown
// after it.
func checkInvalid(t *testing.T, d *doc, i int) error {
	b := d.blocks[i]
	name := b.marker.arg
	if b.lang != "proto" || path.Ext(name) != ".proto" || path.Base(name) != name {
		return fmt.Errorf("%v: <!-- invalid: %s --> marks a ```proto block, and names the file it stands for, as shop.proto", b, name)
	}
	if i+1 == len(d.blocks) {
		return fmt.Errorf("%v: an invalid example is followed by the error it gives, in the next block; there is none", b)
	}
	shown := d.blocks[i+1]
	req, err := blockRequest(t, b, name)
	if err != nil {
		return fmt.Errorf("%v does not compile, so protoc-gen-go-retry never sees it: %v", b, err)
	}
	files, err := protoc.Run(req, protoc.Exec(plugin(t)))
	if err == nil {
		return fmt.Errorf("%v: protoc-gen-go-retry generated %d files from it, where the doc says it fails", b, len(files))
	}
	// protoc prints a plugin's error after the name of its flag.
	want := "--go-retry_out: " + err.Error() + "\n"
	if shown.text != want {
		return fmt.Errorf("%v is not what protoc prints for the block before it; make it\n%s(%s)", shown, want, lineDiff(want, shown.text, "protoc prints"))
	}
	return nil
}
