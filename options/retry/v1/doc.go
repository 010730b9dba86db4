// Package retryv1 holds the Go types of the retry options declared in
// retry.proto: (retry.v1.method), (retry.v1.service) and (retry.v1.file).
//
// The .pb.go files that protoc-gen-go generates for a .proto importing
// "retry/v1/retry.proto" import this package; protoc-gen-go-retry reads the
// options. retry.pb.go is generated, in process, by
//
//	go test ./options/retry/v1 -update
package retryv1

//go:generate go test . -run TestGenerated -update
