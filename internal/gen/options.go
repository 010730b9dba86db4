package gen

import (
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	retryv1 "github.com/dubbo-retry/protoc-gen-go-retry/options/retry/v1"
)

// The three readers below return the retry option set on a descriptor's
// options, or nil when there is none.

func methodRetry(opts proto.Message) (*retryv1.MethodRetry, error) {
	return findOption(opts, retryv1.E_Method, func() *retryv1.MethodRetry { return new(retryv1.MethodRetry) })
}

func serviceRetry(opts proto.Message) (*retryv1.ServiceRetry, error) {
	return findOption(opts, retryv1.E_Service, func() *retryv1.ServiceRetry { return new(retryv1.ServiceRetry) })
}

func fileRetry(opts proto.Message) (*retryv1.FileRetry, error) {
	return findOption(opts, retryv1.E_File, func() *retryv1.FileRetry { return new(retryv1.FileRetry) })
}

// findOption returns the value of extension xt on opts as a T.
//
// It does not call proto.GetExtension, which panics when the value is not
// of the Go type linked into this binary. protoc's pipe gives the plugin
// typed values, but descriptors built in process (protocompile's, for one)
// carry custom options as dynamic messages, and a resolver that does not
// know the extension leaves it in the unknown fields. Both are converted
// through their wire form.
func findOption[T proto.Message](opts proto.Message, xt protoreflect.ExtensionType, newT func() T) (T, error) {
	var zero T
	if opts == nil || !opts.ProtoReflect().IsValid() {
		return zero, nil
	}
	want := xt.TypeDescriptor()
	var found protoreflect.Message
	opts.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.IsExtension() && fd.Number() == want.Number() && fd.FullName() == want.FullName() {
			found = v.Message()
			return false
		}
		return true
	})
	var wire []byte
	if found != nil {
		if t, ok := found.Interface().(T); ok {
			return t, nil
		}
		b, err := proto.Marshal(found.Interface())
		if err != nil {
			return zero, err
		}
		wire = b
	} else {
		var ok bool
		if wire, ok = unknownField(opts.ProtoReflect().GetUnknown(), want.Number()); !ok {
			return zero, nil
		}
	}
	t := newT()
	if err := proto.Unmarshal(wire, t); err != nil {
		return zero, err
	}
	return t, nil
}

// unknownField returns the concatenated payloads of the length-delimited
// field num in the unknown fields b: the wire form of the message it holds,
// merged as the protobuf wire format merges repeated occurrences.
func unknownField(b protoreflect.RawFields, num protoreflect.FieldNumber) ([]byte, bool) {
	var out []byte
	found := false
	for len(b) > 0 {
		n, typ, tagLen := protowire.ConsumeTag(b)
		if tagLen < 0 {
			return nil, false
		}
		valLen := protowire.ConsumeFieldValue(n, typ, b[tagLen:])
		if valLen < 0 {
			return nil, false
		}
		if n == num && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b[tagLen:])
			out = append(out, v...)
			found = true
		}
		b = b[tagLen+valLen:]
	}
	return out, found
}

// unknownFields returns the numbers of the fields in the unknown fields b,
// each once, in the order they first appear.
func unknownFields(b protoreflect.RawFields) []protowire.Number {
	var nums []protowire.Number
	for len(b) > 0 {
		n, typ, tagLen := protowire.ConsumeTag(b)
		if tagLen < 0 {
			return nums
		}
		valLen := protowire.ConsumeFieldValue(n, typ, b[tagLen:])
		if valLen < 0 {
			return nums
		}
		if !slices.Contains(nums, n) {
			nums = append(nums, n)
		}
		b = b[tagLen+valLen:]
	}
	return nums
}
