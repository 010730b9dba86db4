// Package docs tests the repository's documents, README.md and docs/*.md,
// so that none of their examples can rot. Run it with
//
//	go -C example test ./internal/docs
//
// A block is a fenced code block. An HTML comment on the line before its
// fence (blank lines allowed between them), <!-- KIND: ARG -->, says what
// it is, and so how it is tested; ARG is a path relative to the repository
// root:
//
//   - <!-- file: PATH -->: the block is PATH, byte for byte.
//     go -C example test ./internal/docs -update copies the files into
//     the docs.
//   - <!-- output: PATH -->: each line of the block ends a line that the
//     command built from the package PATH prints (the quick start's server
//     and client, which TestQuickStart runs).
//   - <!-- excerpt: example/cmd/demo -->: each line of the block, with its
//     runs of spaces as one, is a line of the demo's output, where a number
//     with a decimal point (an average, which varies) stands for any such
//     number.
//   - <!-- region: PATH -->: the block's lines, each trimmed of the spaces
//     around it, are a run of lines of PATH, likewise trimmed; PATH is a
//     file the tests compile: a .go file of a package of a module the test
//     command tests (or of the quick start, or of testdata/golden, which
//     internal/e2e builds), or a .proto whose generated code a test checks.
//     This is how the docs show fragments of Go and of .proto files.
//   - <!-- invalid: NAME.proto -->, on a ```proto block: written as
//     NAME.proto, with retry/v1/retry.proto on the import path, the block
//     makes protoc-gen-go-retry fail, and the next block of the doc is
//     exactly what protoc prints then: "--go-retry_out: " and the plugin's
//     error, positions in NAME.proto as written.
//
// Blocks are tested by their language too:
//
//   - ```proto: a block that is not marked region or invalid is a whole
//     file (it has a syntax line). It is compiled, protoc-gen-go and
//     protoc-gen-go-retry generate Go from it in a module of its own (its
//     go_package), and that module is built and vetted against dubbo-go.
//   - ```go: a whole file (with a package clause) is marked file, and a
//     fragment region, with PATH a file the tests build.
//   - ```sh: each command that names something of this repository is
//     checked: go -C DIR run ./PKG runs a command (package main); go test,
//     build, vet and generate run in a module, on packages that are there,
//     and the tests, benchmarks and fuzz targets -run, -bench and -fuzz
//     select exist; scripts/NAME.sh, after VAR=value assignments, exists,
//     can be run, and reads each VAR; protoc-gen-go-retry is given flags it
//     has; cd moves where the next commands of the doc run. go install
//     ...@latest, go mod, go get, mkdir, protoc, buf, apt-get, brew and sed
//     are not checked: the install tests run the README's. The README's
//     test command, the block after "Every test", is the one .ci/run runs.
//   - ```yaml: marked file.
//   - ```text, or no language: free, unless marked.
//
// And the docs as a whole:
//
//   - Every relative link, [text](path#anchor), leads to a file or a
//     directory of the repository, and every anchor to a heading of the
//     Markdown file, as GitHub makes anchors (lower case, spaces as '-', no
//     punctuation but '-' and '_', -1, -2 for repeated headings).
//   - docs/reference.md names in `code` every option of retry/v1/retry.proto
//     and every field of its messages, every parameter and flag of the
//     plugin (from its --help), and dubboretry's Dial, PolicyOf and With...
//     options.
//   - Every file of the quick start is shown in the README, or linked.
//
// The quick start runs as a newcomer would run it, by every route the
// README gives, each in a fresh module:
//
//   - protoc (TestQuickStart): its generate commands (generate.sh), with
//     protoc compiled in process; the server and the client are built,
//     vetted and run on free ports of 127.0.0.1.
//   - buf (TestQuickStartWithBuf): protoc-gen-go-retry --write-options,
//     then buf generate with buf v1.75.0 (tools/buf.go.mod), which must
//     generate what protoc does, byte for byte.
//   - published (TestInstallPublished): the README's go install ...@latest
//     commands and quick start, through a module proxy on disk that holds
//     this checkout as the plugin's version; go mod tidy must add both
//     modules at that version. It keeps a module cache of its own in the
//     user's cache directory (publishedModCache says why).
//   - from a checkout (TestInstallFromCheckout): the README's go -C
//     ../protoc-gen-go-retry install and go mod edit commands, with this
//     checkout for ../protoc-gen-go-retry.
package docs
