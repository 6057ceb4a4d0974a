// Package envoyres is the set of Envoy resources one dataplane receives, typed, so that the
// translator, the snapshot builder, render and explain all share one shape.
//
// It is also the one way to read those resources back (explain, inspect's policy report and
// the ProxyTemplate checks in modify all walk listener → filter chain → filter):
// FilterChains (the default chain last), Terminal and ChainTerminal (the HTTP connection
// manager or TCP proxy that ends a chain), HTTPConnectionManager, IsTerminalNetwork and
// IsRouter (what must stay last), RouteConfigNames and EDSServiceName (what a listener or a
// cluster loads by name, through go-control-plane's cache.GetResourceReferences so that it
// reads them as the snapshot's consistency check does), and the full names of the typed
// configs meshgate reads (types.go), taken from the generated messages rather than spelled out.
package envoyres

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// Resources holds each type's resources sorted by name.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
	Secrets   []*tlsv3.Secret
}
