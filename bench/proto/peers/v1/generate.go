// Package peersv1 is the service of the peer comparison: peers.proto, and
// what protoc-gen-go, protoc-gen-go-grpc and protoc-gen-go-retry generate
// from it. Regenerate it with go -C bench generate ./...
package peersv1

//go:generate go run github.com/dubbo-retry/protoc-gen-go-retry/bench/cmd/regen
