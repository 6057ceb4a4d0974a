package v1alpha1

// KindMeshGatewayInstance asks the control plane for a Deployment and a Service serving the
// MeshGateway whose tags it matches. It exists only on Kubernetes (a namespaced CRD, its mesh
// from the `kuma.io/mesh` label), as in Kuma.
const KindMeshGatewayInstance Kind = "MeshGatewayInstance"

// MeshGatewayInstance follows Kuma's MeshGatewayInstanceSpec field for field, so the seed's
// manifests and Kuma's examples decode unchanged.
type MeshGatewayInstance struct {
	Meta `json:"-"`
	Spec MeshGatewayInstanceSpec
}

type MeshGatewayInstanceSpec struct {
	// Replicas is the number of gateway pods; unset means 1, as Kuma's CRD default.
	Replicas *int32 `json:"replicas,omitempty"`
	// ServiceType is the type of the managed Service; unset means LoadBalancer.
	ServiceType     ServiceType                  `json:"serviceType,omitempty"`
	Tags            map[string]string            `json:"tags,omitempty"`
	Resources       *GatewayInstanceResources    `json:"resources,omitempty"`
	ServiceTemplate *GatewayInstanceServiceTempl `json:"serviceTemplate,omitempty"`
	PodTemplate     *GatewayInstancePodTemplate  `json:"podTemplate,omitempty"`
}

type ServiceType string

const (
	ServiceTypeLoadBalancer ServiceType = "LoadBalancer"
	ServiceTypeClusterIP    ServiceType = "ClusterIP"
	ServiceTypeNodePort     ServiceType = "NodePort"
)

// ReplicasOrDefault is the requested number of pods.
func (s *MeshGatewayInstanceSpec) ReplicasOrDefault() int32 {
	if s.Replicas == nil {
		return 1
	}
	return *s.Replicas
}

// ServiceTypeOrDefault is the requested Service type.
func (s *MeshGatewayInstanceSpec) ServiceTypeOrDefault() ServiceType {
	if s.ServiceType == "" {
		return ServiceTypeLoadBalancer
	}
	return s.ServiceType
}

// Quantity is a Kubernetes resource quantity as a manifest writes it: a number (`cpu: 1`) or a
// string (`memory: 128Mi`). Its own named type lets the CRD schema generator emit Kubernetes'
// int-or-string quantity schema for it.
type Quantity any

// GatewayInstanceResources is the gateway container's Kubernetes ResourceRequirements.
type GatewayInstanceResources struct {
	Limits   map[string]Quantity `json:"limits,omitempty"`
	Requests map[string]Quantity `json:"requests,omitempty"`
}

// GatewayInstanceMetadata is merged into the managed object's metadata.
type GatewayInstanceMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type GatewayInstanceServiceTempl struct {
	Metadata *GatewayInstanceMetadata    `json:"metadata,omitempty"`
	Spec     *GatewayInstanceServiceSpec `json:"spec,omitempty"`
}

type GatewayInstanceServiceSpec struct {
	LoadBalancerIP string `json:"loadBalancerIP,omitempty"`
}

type GatewayInstancePodTemplate struct {
	Metadata *GatewayInstanceMetadata `json:"metadata,omitempty"`
	Spec     *GatewayInstancePodSpec  `json:"spec,omitempty"`
}

// GatewayInstancePodSpec holds the pod fields Kuma lets a MeshGatewayInstance set; the JSON
// names are Kuma's (`securityContext` is the PodSecurityContext).
type GatewayInstancePodSpec struct {
	ServiceAccountName string                       `json:"serviceAccountName,omitempty"`
	SecurityContext    *GatewayInstancePodSecurity  `json:"securityContext,omitempty"`
	Container          *GatewayInstanceContainerSpc `json:"container,omitempty"`
}

type GatewayInstancePodSecurity struct {
	FSGroup *int64 `json:"fsGroup,omitempty"`
}

type GatewayInstanceContainerSpc struct {
	SecurityContext *GatewayInstanceContainerSecurity `json:"securityContext,omitempty"`
}

type GatewayInstanceContainerSecurity struct {
	ReadOnlyRootFilesystem *bool `json:"readOnlyRootFilesystem,omitempty"`
}
