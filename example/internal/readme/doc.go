// Package readme tests the examples of the repository's README.md, so that
// none of them can rot:
//
//   - A block preceded by <!-- file: PATH --> must be PATH, byte for byte.
//     The quick start's blocks are copies of the files of example/quickstart,
//     and every file there is shown. go -C example test ./internal/readme
//     -update copies the files into the README.
//   - Every ```proto block is compiled, generated with protoc-gen-go and
//     protoc-gen-go-retry in its own module (its go_package), and that module
//     is built and vetted against the example's dubbo-go.
//   - Every ```go block that is a whole file (it has a package clause) must
//     be a copy of a file of example/quickstart, which is built and run.
//   - The quick start runs as a newcomer would run it: its generate commands
//     (example/quickstart/generate.sh) are carried out in a fresh module,
//     with protoc compiled in process; the server and the client are built,
//     vetted and run on free ports of 127.0.0.1; the output the README shows
//     after <!-- output: PATH --> must appear in theirs.
package readme
