package snapshot

import (
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// go-control-plane marshals every resource of every response it sends (cache.MarshalResource
// on each response's own copy), so a route table shared by a thousand gateway replicas would
// be marshalled a thousand times per change. A sealed resource is the same message type with
// only its name field set and the rest of its encoding kept as unknown fields: it marshals by
// copying those bytes, and the deterministic encoding puts field 1 (the name) first, so the
// bytes sent are exactly the bytes the version was hashed from. go-control-plane reads only
// the name (cache.GetResourceName) of resources it serves, which a sealed one keeps.
//
// Sealed resources are opaque: nothing may read their fields besides the name, and references
// between them (cache.GetResourceReferences) are gone; a snapshot is checked for consistency
// before it is sealed.

// nameField is the field every xDS resource type meshgate serves names itself with.
const nameField protowire.Number = 1

func sealResource(r types.Resource, raw []byte) (types.Resource, error) {
	m := r.ProtoReflect()
	fd := m.Descriptor().Fields().ByNumber(nameField)
	if fd == nil || fd.Kind() != protoreflect.StringKind {
		return nil, fmt.Errorf("%s has no string field %d to keep its name in", m.Descriptor().FullName(), nameField)
	}
	rest, err := withoutField(raw, nameField)
	if err != nil {
		return nil, err
	}
	sealed := m.Type().New()
	sealed.Set(fd, m.Get(fd))
	sealed.SetUnknown(rest)
	return sealed.Interface(), nil
}

// withoutField returns the encoding of a message without its top-level field num.
func withoutField(raw []byte, num protowire.Number) ([]byte, error) {
	out := make([]byte, 0, len(raw))
	for b := raw; len(b) > 0; {
		n, typ, tagLen := protowire.ConsumeTag(b)
		if tagLen < 0 {
			return nil, fmt.Errorf("sealing: %w", protowire.ParseError(tagLen))
		}
		fieldLen := protowire.ConsumeFieldValue(n, typ, b[tagLen:])
		if fieldLen < 0 {
			return nil, fmt.Errorf("sealing: %w", protowire.ParseError(fieldLen))
		}
		if n != num {
			out = append(out, b[:tagLen+fieldLen]...)
		}
		b = b[tagLen+fieldLen:]
	}
	return out, nil
}
