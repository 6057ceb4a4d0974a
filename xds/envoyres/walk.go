package envoyres

import (
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// FilterChains are a listener's filter chains with the default filter chain last. Nil entries
// are kept, so that an index names the same chain as the listener's own list does.
func FilterChains(l *listenerv3.Listener) []*listenerv3.FilterChain {
	out := append([]*listenerv3.FilterChain(nil), l.GetFilterChains()...)
	if d := l.GetDefaultFilterChain(); d != nil {
		out = append(out, d)
	}
	return out
}

// HTTPConnectionManager decodes the HTTP connection manager a network filter configures; nil
// for another filter, one configured through ECDS, or one that does not decode.
func HTTPConnectionManager(f *listenerv3.Filter) *hcmv3.HttpConnectionManager {
	if TypeName(f.GetTypedConfig()) != HTTPConnectionManagerType {
		return nil
	}
	return resourcev3.GetHTTPConnectionManager(f)
}

// Terminal decodes f when it is one of the two terminal filters meshgate generates and reads:
// an HTTP connection manager or a TCP proxy. ok says whether it is one; err is the decoding
// error, with hcm and tcp nil.
func Terminal(f *listenerv3.Filter) (hcm *hcmv3.HttpConnectionManager, tcp *tcpproxyv3.TcpProxy, ok bool, err error) {
	a := f.GetTypedConfig()
	switch TypeName(a) {
	case HTTPConnectionManagerType:
		hcm = &hcmv3.HttpConnectionManager{}
		if err := a.UnmarshalTo(hcm); err != nil {
			return nil, nil, true, err
		}
		return hcm, nil, true, nil
	case TCPProxyType:
		tcp = &tcpproxyv3.TcpProxy{}
		if err := a.UnmarshalTo(tcp); err != nil {
			return nil, nil, true, err
		}
		return nil, tcp, true, nil
	}
	return nil, nil, false, nil
}

// ChainTerminal is Terminal of the first filter of fc that is an HTTP connection manager or a
// TCP proxy, as Envoy stops there.
func ChainTerminal(fc *listenerv3.FilterChain) (*hcmv3.HttpConnectionManager, *tcpproxyv3.TcpProxy, error) {
	for _, f := range fc.GetFilters() {
		if hcm, tcp, ok, err := Terminal(f); ok {
			return hcm, tcp, err
		}
	}
	return nil, nil, nil
}

// RouteConfigNames are the route configurations a listener's HTTP connection managers load
// over RDS (and name in inline scoped routes), sorted. They come from go-control-plane's
// cache.GetResourceReferences, the same reading its snapshot consistency check makes.
func RouteConfigNames(l *listenerv3.Listener) []string {
	return references(l, resourcev3.RouteType)
}

// EDSServiceName is the ClusterLoadAssignment an EDS cluster loads (eds_cluster_config's
// service_name, else the cluster's name), or "" for a cluster of another discovery type.
func EDSServiceName(c *clusterv3.Cluster) string {
	if n := references(c, resourcev3.EndpointType); len(n) > 0 {
		return n[0]
	}
	return ""
}

func references(r types.Resource, typeURL string) []string {
	refs := cachev3.GetResourceReferences(map[string]types.ResourceWithTTL{"": {Resource: r}})[typeURL]
	out := make([]string, 0, len(refs))
	for n := range refs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
