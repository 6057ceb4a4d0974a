package names

import "google.golang.org/protobuf/types/known/structpb"

// RouteOrigin is what meshgate records on an Envoy route built from a MeshGatewayRoute rule:
// the mesh, the route's name, and the rule and match indexes. translate writes it and explain
// reads it back to answer "which rule sent this request here".
type RouteOrigin struct {
	Mesh  string
	Route string
	Rule  int
	Match int
}

// The keys of a RouteOrigin inside the MetadataNamespace filter metadata of a route. They are
// part of the output (visible in Envoy's config dump), so they do not change.
const (
	originMeshKey  = "mesh"
	originRouteKey = "route"
	originRuleKey  = "rule"
	originMatchKey = "match"
)

// EncodeRouteOrigin is o as the fields of the MetadataNamespace struct of a route. Indexes are
// numbers, since protobuf's Struct has no integers.
func EncodeRouteOrigin(o RouteOrigin) map[string]*structpb.Value {
	return map[string]*structpb.Value{
		originMeshKey:  structpb.NewStringValue(o.Mesh),
		originRouteKey: structpb.NewStringValue(o.Route),
		originRuleKey:  structpb.NewNumberValue(float64(o.Rule)),
		originMatchKey: structpb.NewNumberValue(float64(o.Match)),
	}
}

// DecodeRouteOrigin reads back what EncodeRouteOrigin wrote into s, the route's
// MetadataNamespace struct (nil allowed). It reports false when s names no route: a generated
// route (the 404) or one meshgate did not build.
func DecodeRouteOrigin(s *structpb.Struct) (RouteOrigin, bool) {
	f := s.GetFields()
	route := f[originRouteKey].GetStringValue()
	if route == "" {
		return RouteOrigin{}, false
	}
	return RouteOrigin{
		Mesh:  f[originMeshKey].GetStringValue(),
		Route: route,
		Rule:  int(f[originRuleKey].GetNumberValue()),
		Match: int(f[originMatchKey].GetNumberValue()),
	}, true
}
