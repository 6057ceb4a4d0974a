// Package meta holds the Kubernetes label and annotation names meshgate reads and writes in
// Kubernetes mode. They are Kuma's, so pods, namespaces and MeshGatewayInstances written for
// Kuma mean the same to meshgate.
package meta

const (
	// MeshAnnotation (on a pod or namespace, or as a label on a MeshGatewayInstance) names the
	// mesh; unset means "default".
	MeshAnnotation = "kuma.io/mesh"
	// DefaultMesh is the mesh of an object that names none.
	DefaultMesh = "default"
	// GatewayAnnotation "builtin" marks a pod as a builtin gateway: it becomes a gateway
	// Dataplane with the tags of TagsAnnotation, and gets no inbounds.
	GatewayAnnotation = "kuma.io/gateway"
	// GatewayBuiltin is GatewayAnnotation's value for a builtin gateway.
	GatewayBuiltin = "builtin"
	// TagsAnnotation holds a gateway pod's tags as a JSON object.
	TagsAnnotation = "kuma.io/tags"
	// SidecarInjection ("enabled"/"disabled", a label or annotation on a namespace or pod) says
	// whether a pod is part of the mesh.
	SidecarInjection = "kuma.io/sidecar-injection"
	// ServiceTag is the tag naming a dataplane's service.
	ServiceTag = "kuma.io/service"
	// ProtocolTag is an inbound's protocol (tcp, http, http2, grpc).
	ProtocolTag = "kuma.io/protocol"
	// Tags Kuma puts on every inbound of a Kubernetes dataplane.
	NamespaceTag   = "k8s.kuma.io/namespace"
	ServiceNameTag = "k8s.kuma.io/service-name"
	ServicePortTag = "k8s.kuma.io/service-port"

	// ManagedByLabel is set on everything meshgate creates (Deployments, Services, Secrets).
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "meshgate"
	// InstanceLabel names the MeshGatewayInstance a Deployment, Service or pod belongs to.
	InstanceLabel = "meshgate.io/gateway-instance"

	// Environment variables of the gateway container (`meshgate dataplane`), set by the
	// MeshGatewayInstance controller.
	EnvPodName      = "POD_NAME"
	EnvPodNamespace = "POD_NAMESPACE"
	EnvCPAddress    = "MESHGATE_CP_ADDRESS"
	EnvCPCA         = "MESHGATE_CP_CA"
	// ServiceAccountTokenFile is where Kubernetes mounts a pod's ServiceAccount token.
	ServiceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
)

// ObjectLabel names a Kubernetes object where meshgate's errors name a file: `kubectl get`
// accepts it as written (`meshgatewayroutes/edge-route`, `dataplanes/web-1.default` for a
// namespaced kind, whose meshgate name already carries the namespace).
func ObjectLabel(plural, name string) string { return plural + "/" + name }
