package modify

import (
	"slices"
	"strings"

	"github.com/meshgate/meshgate/xds/names"
)

// Origins meshgate's resources are matched by (Kuma's generator names; see the package doc).
const (
	originInbound     = "inbound"
	originOutbound    = "outbound"
	originGateway     = "gateway"
	originTransparent = "transparent"
)

var knownOrigins = []string{originInbound, originOutbound, originGateway, originTransparent}

var passthrough = []string{names.OutboundPassthroughListener, names.InboundPassthroughListener,
	names.PassthroughCluster, names.InboundPassthroughCluster}

func isPassthrough(name string) bool { return slices.Contains(passthrough, name) }

// clusterOrigin reports whether a cluster has origin o: `localhost:<port>` clusters are the
// inbound ones, the passthrough clusters transparent, and every other cluster is a destination,
// which Kuma calls outbound on a sidecar and gateway on a gateway.
func clusterOrigin(name, o string) bool {
	switch {
	case isPassthrough(name):
		return o == originTransparent
	case strings.HasPrefix(name, "localhost:"):
		return o == originInbound
	}
	return o == originOutbound || o == originGateway
}

// listenerOrigin reports whether a listener or route configuration has origin o, by the names
// package's prefixes: `inbound:`, `outbound:`, the passthrough listeners, else a gateway's.
func listenerOrigin(name, o string) bool {
	switch {
	case isPassthrough(name):
		return o == originTransparent
	case strings.HasPrefix(name, "inbound:"):
		return o == originInbound
	case strings.HasPrefix(name, "outbound:"):
		return o == originOutbound
	}
	return o == originGateway
}
