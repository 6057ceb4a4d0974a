// Package v1alpha1 holds meshgate's Kuma-compatible resource types, their strict YAML/JSON
// decoding (with line numbers for every field) and per-object validation.
//
// FieldError is meshgate's one problem type: validation errors, the model's cross-resource
// errors, cross-mesh conflicts (crossmesh), proxy diagnostics (xds/build, ir.Proxy.Diagnostics)
// and ProxyTemplate problems (xds/modify) are all FieldErrors, located in the resource they are
// about by the code that holds it (Meta.Problem, Locate).
package v1alpha1

import "time"

// Kind names a resource type exactly as Kuma spells it in the universal `type:` field and the
// Kubernetes `kind:` field.
type Kind string

const (
	KindMesh             Kind = "Mesh"
	KindDataplane        Kind = "Dataplane"
	KindMeshGateway      Kind = "MeshGateway"
	KindMeshGatewayRoute Kind = "MeshGatewayRoute"
	KindSecret           Kind = "Secret"

	// Kuma's source/destination policies and ExternalService: mesh-scoped, and cluster-scoped
	// (not namespaced) on Kubernetes, as Kuma's CRDs have them.
	KindTrafficPermission Kind = "TrafficPermission"
	KindFaultInjection    Kind = "FaultInjection"
	KindTrafficLog        Kind = "TrafficLog"
	KindExternalService   Kind = "ExternalService"
	KindCircuitBreaker    Kind = "CircuitBreaker"
	KindHealthCheck       Kind = "HealthCheck"
	KindRateLimit         Kind = "RateLimit"
	KindRetry             Kind = "Retry"
	KindTimeout           Kind = "Timeout"
	KindTrafficRoute      Kind = "TrafficRoute"

	// Kuma's selector policies: they select dataplanes (`selectors`) rather than connections.
	// Mesh-scoped and cluster-scoped on Kubernetes like the others.
	KindVirtualOutbound Kind = "VirtualOutbound"
	KindProxyTemplate   Kind = "ProxyTemplate"
)

// DefaultMesh is the mesh a resource belongs to when it names none, as in Kuma.
const DefaultMesh = "default"

// Meta is what every resource carries besides its spec.
type Meta struct {
	Kind Kind
	// Mesh is empty for Mesh resources themselves.
	Mesh string
	Name string
	// CreationTime is optional (kumactl output and Kubernetes objects carry it); it breaks ties
	// where Kuma prefers the most recently created resource.
	CreationTime time.Time
	// ModificationTime is optional, as kumactl prints it; meshgate does not use it.
	ModificationTime time.Time
	Labels           map[string]string
	Source           Source
}

// Source says where a resource was read from, so that every error can name the file and line.
type Source struct {
	File string
	// Line is the line of the document's first key.
	Line int
	// Fields maps a spec field path (as used in validation errors, e.g. `conf.listeners[0].port`)
	// to the line it was written on. Paths are relative to the spec body, so both forms give
	// the same paths; `name` and `mesh` are recorded too, for errors about them.
	Fields map[string]int
}

// Object is any decoded resource.
type Object interface {
	GetMeta() *Meta
	// Validate checks the object on its own (no other resources), returning every violation.
	Validate() ErrorList
}

func (m *Meta) GetMeta() *Meta { return m }

// Key identifies a resource within the whole configuration.
func (m *Meta) Key() string {
	if m.Kind == KindMesh {
		return string(m.Kind) + "/" + m.Name
	}
	return string(m.Kind) + "/" + m.Mesh + "/" + m.Name
}

// DisplayName is how errors name the resource: `MeshGatewayRoute default/edge-route`, `Mesh default`.
func (m *Meta) DisplayName() string {
	if m.Kind == KindMesh || m.Kind == KindZoneIngress {
		return string(m.Kind) + " " + m.Name
	}
	return string(m.Kind) + " " + m.Mesh + "/" + m.Name
}
