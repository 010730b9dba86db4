module github.com/dubbo-retry/protoc-gen-go-retry

go 1.24.0

require google.golang.org/protobuf v1.36.12

require (
	github.com/bufbuild/protocompile v0.14.1 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	golang.org/x/sync v0.8.0 // indirect
)
