package v1alpha1

import (
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// KindInfo tells the decoder how to build and name resources of one kind. Adding a kind (a
// policy such as TrafficPermission) is one Register call with its type; the decoder finds the
// body through the type's `Spec` field and its json tags.
type KindInfo struct {
	Kind Kind
	// New returns an empty resource: a pointer to a struct embedding Meta with a struct `Spec`.
	New func() Object
	// Global kinds (Mesh) belong to no mesh; every other kind defaults to DefaultMesh.
	Global bool
	// Namespaced kinds are namespaced on Kubernetes, where Kuma names them `<name>.<namespace>`.
	Namespaced bool
	// KubernetesOnly kinds (MeshGatewayInstance) exist only as Kubernetes objects: the universal
	// form rejects them and Kinds leaves them out, so the store and the REST API never serve them.
	KubernetesOnly bool
}

var (
	registryMu sync.RWMutex
	registry   = map[Kind]KindInfo{}
)

// Register adds a kind. It panics on a programming error (a duplicate kind or a type without a
// struct Spec field), so mistakes surface at init rather than as confusing decode errors.
func Register(info KindInfo) {
	if info.Kind == "" || info.New == nil {
		panic("v1alpha1.Register: Kind and New are required")
	}
	if _, ok := specOf(info.New()); !ok {
		panic(fmt.Sprintf("v1alpha1.Register(%s): New must return a pointer to a struct with a struct field Spec", info.Kind))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[info.Kind]; dup {
		panic(fmt.Sprintf("v1alpha1.Register: kind %s registered twice", info.Kind))
	}
	registry[info.Kind] = info
}

// LookupKind returns the registration of a kind.
func LookupKind(kind Kind) (KindInfo, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	info, ok := registry[kind]
	return info, ok
}

// Kinds lists every registered kind the universal form, the store and the REST API serve, sorted.
func Kinds() []Kind { return kinds(false) }

// AllKinds lists every registered kind, Kubernetes-only ones included, sorted.
func AllKinds() []Kind { return kinds(true) }

func kinds(kubernetesOnly bool) []Kind {
	registryMu.RLock()
	defer registryMu.RUnlock()
	kinds := make([]Kind, 0, len(registry))
	for k, info := range registry {
		if info.KubernetesOnly && !kubernetesOnly {
			continue
		}
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i] < kinds[j] })
	return kinds
}

// specOf returns the addressable Spec struct of a resource.
func specOf(obj Object) (reflect.Value, bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	spec := v.Elem().FieldByName("Spec")
	if !spec.IsValid() || spec.Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	return spec, true
}

func init() {
	Register(KindInfo{Kind: KindMesh, New: func() Object { return &Mesh{} }, Global: true})
	Register(KindInfo{Kind: KindDataplane, New: func() Object { return &Dataplane{} }, Namespaced: true})
	Register(KindInfo{Kind: KindMeshGateway, New: func() Object { return &MeshGateway{} }})
	Register(KindInfo{Kind: KindMeshGatewayRoute, New: func() Object { return &MeshGatewayRoute{} }})
	Register(KindInfo{Kind: KindSecret, New: func() Object { return &Secret{} }})
	Register(KindInfo{Kind: KindTrafficPermission, New: func() Object { return &TrafficPermission{} }})
	Register(KindInfo{Kind: KindFaultInjection, New: func() Object { return &FaultInjection{} }})
	Register(KindInfo{Kind: KindTrafficLog, New: func() Object { return &TrafficLog{} }})
	Register(KindInfo{Kind: KindExternalService, New: func() Object { return &ExternalService{} }})
	Register(KindInfo{Kind: KindCircuitBreaker, New: func() Object { return &CircuitBreaker{} }})
	Register(KindInfo{Kind: KindHealthCheck, New: func() Object { return &HealthCheck{} }})
	Register(KindInfo{Kind: KindRateLimit, New: func() Object { return &RateLimit{} }})
	Register(KindInfo{Kind: KindRetry, New: func() Object { return &Retry{} }})
	Register(KindInfo{Kind: KindTimeout, New: func() Object { return &Timeout{} }})
	Register(KindInfo{Kind: KindTrafficRoute, New: func() Object { return &TrafficRoute{} }})
	Register(KindInfo{Kind: KindVirtualOutbound, New: func() Object { return &VirtualOutbound{} }})
	Register(KindInfo{Kind: KindProxyTemplate, New: func() Object { return &ProxyTemplate{} }})
	Register(KindInfo{Kind: KindZoneIngress, New: func() Object { return &ZoneIngress{} }, Global: true})
	Register(KindInfo{Kind: KindMeshGatewayInstance, New: func() Object { return &MeshGatewayInstance{} },
		Namespaced: true, KubernetesOnly: true})
}
