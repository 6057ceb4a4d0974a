package modify

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// replacedWhole are the message types a patch replaces instead of merging field by field:
// merging `5s` with `0.5s` field by field would give 5.5s, and a wrapper's zero value would be
// lost. Kuma's merge replaces durations the same way.
var replacedWhole = map[protoreflect.FullName]bool{
	"google.protobuf.Duration":    true,
	"google.protobuf.Timestamp":   true,
	"google.protobuf.Any":         true,
	"google.protobuf.DoubleValue": true,
	"google.protobuf.FloatValue":  true,
	"google.protobuf.Int64Value":  true,
	"google.protobuf.UInt64Value": true,
	"google.protobuf.Int32Value":  true,
	"google.protobuf.UInt32Value": true,
	"google.protobuf.BoolValue":   true,
	"google.protobuf.StringValue": true,
	"google.protobuf.BytesValue":  true,
}

// merge merges src into dst as proto.Merge does (set scalars overwrite, repeated fields append,
// maps merge by key, messages merge recursively), except for the replacedWhole types.
func merge(dst, src proto.Message) {
	mergeMessage(dst.ProtoReflect(), src.ProtoReflect())
}

func mergeMessage(dst, src protoreflect.Message) {
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			dl := dst.Mutable(fd).List()
			sl := v.List()
			for i := 0; i < sl.Len(); i++ {
				e := sl.Get(i)
				if fd.Message() != nil {
					e = protoreflect.ValueOfMessage(proto.Clone(e.Message().Interface()).ProtoReflect())
				}
				dl.Append(e)
			}
		case fd.IsMap():
			dm := dst.Mutable(fd).Map()
			v.Map().Range(func(k protoreflect.MapKey, e protoreflect.Value) bool {
				if fd.MapValue().Message() != nil {
					e = protoreflect.ValueOfMessage(proto.Clone(e.Message().Interface()).ProtoReflect())
				}
				dm.Set(k, e)
				return true
			})
		case fd.Message() != nil:
			if replacedWhole[fd.Message().FullName()] {
				dst.Set(fd, protoreflect.ValueOfMessage(proto.Clone(v.Message().Interface()).ProtoReflect()))
			} else {
				mergeMessage(dst.Mutable(fd).Message(), v.Message())
			}
		case fd.Kind() == protoreflect.BytesKind:
			dst.Set(fd, protoreflect.ValueOfBytes(append([]byte(nil), v.Bytes()...)))
		default:
			dst.Set(fd, v)
		}
		return true
	})
}

// mergeAny merges the message packed in src into the one packed in dst and packs the result
// deterministically (the snapshot version is a hash of the bytes).
func mergeAny(dst, src *anypb.Any) (*anypb.Any, error) {
	if src == nil {
		return nil, fmt.Errorf("the value has no typed_config to merge")
	}
	if dst == nil {
		return proto.Clone(src).(*anypb.Any), nil
	}
	if dst.GetTypeUrl() != src.GetTypeUrl() {
		return nil, fmt.Errorf("typed_config %q does not match the filter's %q", src.GetTypeUrl(), dst.GetTypeUrl())
	}
	d, err := dst.UnmarshalNew()
	if err != nil {
		return nil, unknownType(dst.GetTypeUrl())
	}
	s, err := src.UnmarshalNew()
	if err != nil {
		return nil, unknownType(src.GetTypeUrl())
	}
	merge(d, s)
	return pack(d)
}

// pack wraps m in an Any deterministically.
func pack(m proto.Message) (*anypb.Any, error) {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		return nil, err
	}
	return a, nil
}
