package gen

import (
	"flag"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/google/go-cmp/cmp"

	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

// Every test package of the module accepts -update, so that
// go test ./... -update works; this one has no golden files.
var _ = flag.Bool("update", false, "rewrite golden files (none in this package)")

// TestFindOption reads (retry.v1.method) in the three forms a plugin can
// meet it in: the Go type, a dynamic message (descriptors compiled in
// process), and unknown fields (parsed without the extension registered).
func TestFindOption(t *testing.T) {
	want := &retryv1.MethodRetry{Retries: proto.Uint32(3)}

	typed := &descriptorpb.MethodOptions{}
	proto.SetExtension(typed, retryv1.E_Method, want)

	dynamic := &descriptorpb.MethodOptions{}
	xt := dynamicpb.NewExtensionType(retryv1.E_Method.TypeDescriptor().Descriptor())
	value := dynamicpb.NewMessage(retryv1.File_retry_v1_retry_proto.Messages().ByName("MethodRetry"))
	value.Set(value.Descriptor().Fields().ByName("retries"), protoreflectUint32(3))
	proto.SetExtension(dynamic, xt, value)

	wire, err := proto.Marshal(typed)
	if err != nil {
		t.Fatal(err)
	}
	unknown := &descriptorpb.MethodOptions{}
	if err := (proto.UnmarshalOptions{Resolver: new(protoregistry.Types)}).Unmarshal(wire, unknown); err != nil {
		t.Fatal(err)
	}
	if len(unknown.ProtoReflect().GetUnknown()) == 0 {
		t.Fatal("the option did not end up in the unknown fields")
	}

	for name, opts := range map[string]*descriptorpb.MethodOptions{"typed": typed, "dynamic": dynamic, "unknown": unknown} {
		got, err := methodRetry(opts)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("%s: methodRetry() mismatch (-want +got):\n%s", name, diff)
		}
	}

	for name, opts := range map[string]proto.Message{
		"nil options":     (*descriptorpb.MethodOptions)(nil),
		"no retry option": &descriptorpb.MethodOptions{Deprecated: proto.Bool(true)},
		"another extension, same number": func() proto.Message {
			o := &descriptorpb.FileOptions{}
			proto.SetExtension(o, retryv1.E_File, &retryv1.FileRetry{Retries: proto.Uint32(1)})
			return o
		}(),
	} {
		if got, err := methodRetry(opts); got != nil || err != nil {
			t.Errorf("%s: methodRetry() = %v, %v, want nil, nil", name, got, err)
		}
	}
}

func protoreflectUint32(n uint32) protoreflect.Value { return protoreflect.ValueOfUint32(n) }
