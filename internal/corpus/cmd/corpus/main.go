// Command corpus writes the benchmark corpus of package corpus to a
// directory and prints the names of its files, one a line, for protoc:
//
//	go run ./internal/corpus/cmd/corpus -out /tmp/corpus -scale 1
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/dubbo-retry/protoc-gen-go-retry/internal/corpus"
)

func main() {
	c := corpus.Standard
	out := flag.String("out", "", "the directory to write the corpus to (required)")
	flag.IntVar(&c.Files, "files", c.Files, "files")
	flag.IntVar(&c.Services, "services", c.Services, "services per file")
	flag.IntVar(&c.Methods, "methods", c.Methods, "unary methods per service")
	flag.BoolVar(&c.SharedMessages, "shared", false, "one request and response message per file instead of a pair per method")
	scale := flag.Int("scale", 1, "multiply the number of files by this")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 || *scale < 1 {
		flag.Usage()
		os.Exit(2)
	}
	names, err := corpus.Write(*out, c.Scale(*scale))
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(1)
	}
	for _, n := range names {
		fmt.Println(n)
	}
}
