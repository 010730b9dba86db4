package gen

import (
	"testing"

	"google.golang.org/protobuf/proto"

	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

func TestResolve(t *testing.T) {
	method := func(n uint32) *retryv1.MethodRetry { return &retryv1.MethodRetry{Retries: proto.Uint32(n)} }
	service := func(n uint32, idempotentOnly bool) *retryv1.ServiceRetry {
		return &retryv1.ServiceRetry{Retries: proto.Uint32(n), IdempotentOnly: idempotentOnly}
	}
	file := func(n uint32, idempotentOnly bool) *retryv1.FileRetry {
		return &retryv1.FileRetry{Retries: proto.Uint32(n), IdempotentOnly: idempotentOnly}
	}
	var (
		unary      = Method{}
		idempotent = Method{Idempotent: true}
		streaming  = Method{Streaming: true}
	)
	tests := []struct {
		name string
		m    Method
		opts Options
		want Default
	}{
		{"no options", unary, Options{}, Default{}},
		{"options set without retries", unary,
			Options{Method: &retryv1.MethodRetry{}, Service: &retryv1.ServiceRetry{IdempotentOnly: true}, File: &retryv1.FileRetry{}},
			Default{}},

		{"method", unary, Options{Method: method(3)}, Default{Source: MethodOption, Retries: 3}},
		{"method beats service and file", unary,
			Options{Method: method(3), Service: service(2, false), File: file(1, false)},
			Default{Source: MethodOption, Retries: 3}},
		{"explicit 0 on the method beats service and file", unary,
			Options{Method: method(0), Service: service(2, false), File: file(1, false)},
			Default{Source: MethodOption, Retries: 0}},
		{"method without retries falls through to the service", unary,
			Options{Method: &retryv1.MethodRetry{}, Service: service(2, false)},
			Default{Source: ServiceOption, Retries: 2}},

		{"service", unary, Options{Service: service(2, false)}, Default{Source: ServiceOption, Retries: 2}},
		{"service beats file", unary,
			Options{Service: service(2, false), File: file(1, false)},
			Default{Source: ServiceOption, Retries: 2}},
		{"explicit 0 on the service beats file", unary,
			Options{Service: service(0, false), File: file(1, false)},
			Default{Source: ServiceOption, Retries: 0}},
		{"service without retries falls through to the file", unary,
			Options{Service: &retryv1.ServiceRetry{}, File: file(1, false)},
			Default{Source: FileOption, Retries: 1}},

		{"file", unary, Options{File: file(1, false)}, Default{Source: FileOption, Retries: 1}},

		{"service idempotent_only, idempotent method", idempotent,
			Options{Service: service(2, true)},
			Default{Source: ServiceOption, Retries: 2}},
		{"service idempotent_only, other method", unary,
			Options{Service: service(2, true), File: file(1, false)},
			Default{Source: ServiceOption, NotIdempotent: true, Declared: 2}},
		{"service idempotent_only does not reach a method option", unary,
			Options{Method: method(4), Service: service(2, true)},
			Default{Source: MethodOption, Retries: 4}},
		{"file idempotent_only, idempotent method", idempotent,
			Options{File: file(1, true)},
			Default{Source: FileOption, Retries: 1}},
		{"file idempotent_only, other method", unary,
			Options{File: file(1, true)},
			Default{Source: FileOption, NotIdempotent: true, Declared: 1}},
		{"file idempotent_only does not reach the service's value", unary,
			Options{Service: service(2, false), File: file(1, true)},
			Default{Source: ServiceOption, Retries: 2}},
		{"service idempotent_only without retries: the file supplies, without its own flag", unary,
			Options{Service: &retryv1.ServiceRetry{IdempotentOnly: true}, File: file(1, false)},
			Default{Source: FileOption, Retries: 1}},

		{"streaming takes no service default", streaming, Options{Service: service(2, false)}, Default{}},
		{"streaming takes no file default", streaming, Options{File: file(1, false)}, Default{}},
		{"streaming ignores a method option (an error, reported before)", streaming, Options{Method: method(3)}, Default{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Resolve(tt.m, tt.opts); got != tt.want {
				t.Errorf("Resolve() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
