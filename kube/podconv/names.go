package podconv

// Kuma's names and defaults that only the pod conversion reads (Kuma's
// pkg/plugins/runtime/k8s/metadata and its sidecar injector). The names every Kubernetes part
// of meshgate shares are in kube/meta.
const (
	// gatewayDelegated is the `kuma.io/gateway` value of a delegated gateway pod (Kong or
	// another proxy in front of a sidecar).
	gatewayDelegated = "enabled"

	// Values of Kuma's boolean annotations and labels.
	annotationEnabled  = "enabled"
	annotationDisabled = "disabled"
	annotationTrue     = "true"
	annotationFalse    = "false"

	// ignoreAnnotation `true` on a Service keeps it out of the mesh: it gives no inbounds.
	ignoreAnnotation = "kuma.io/ignore"
	// instanceTag names the pod behind an inbound of a headless Service, whose clients
	// address pods one by one.
	instanceTag = "kuma.io/instance"
	// serviceProtocolSuffix, after a service port number, is the Service annotation naming
	// that port's protocol (`8080.service.kuma.io/protocol: http`).
	serviceProtocolSuffix = ".service.kuma.io/protocol"

	// Annotations Kuma's injector writes on the pods it injects: the ports and IP families
	// its iptables rules redirect, and the Envoy admin port.
	inboundRedirectPortAnnotation  = "kuma.io/transparent-proxying-inbound-port"
	outboundRedirectPortAnnotation = "kuma.io/transparent-proxying-outbound-port"
	ipFamilyModeAnnotation         = "kuma.io/transparent-proxying-ip-family-mode"
	envoyAdminPortAnnotation       = "kuma.io/envoy-admin-port"

	// The redirect ports of Kuma's injector and `kumactl install transparent-proxy` when
	// nothing else is configured.
	defaultInboundRedirectPort  = 15006
	defaultOutboundRedirectPort = 15001

	// servicelessPort is the inbound port of a pod no Service selects: IANA reserves it, so
	// no application listens on it. Kuma gives such pods this inbound because a sidecar
	// needs one to have an identity (kuma.io/service) at all.
	servicelessPort = 49151
)
