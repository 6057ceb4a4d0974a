package server

import "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

// typeLabel names a type URL for metrics. Clients choose the type URLs they send, so anything
// unknown collapses into "other" to keep label cardinality bounded.
func typeLabel(typeURL string) string {
	switch typeURL {
	case resource.ListenerType:
		return "listener"
	case resource.RouteType:
		return "route"
	case resource.ClusterType:
		return "cluster"
	case resource.EndpointType:
		return "endpoint"
	case resource.SecretType:
		return "secret"
	case resource.ScopedRouteType:
		return "scoped_route"
	case resource.VirtualHostType:
		return "virtual_host"
	case resource.RuntimeType:
		return "runtime"
	case resource.ExtensionConfigType:
		return "extension_config"
	default:
		return "other"
	}
}

const (
	protoSotw  = "sotw"
	protoDelta = "delta"
)
