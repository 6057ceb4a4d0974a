package explain

import (
	"fmt"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	connlimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/connection_limit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/meshgate/meshgate/xds/envoyres"
)

// chainFilters is the part of a filter chain's network filters that decides a request's fate:
// the first terminal filter (HTTP connection manager or TCP proxy).
type chainFilters struct {
	hcm *hcmv3.HttpConnectionManager
	tcp *tcpproxyv3.TcpProxy
	// rbac are the network RBAC filters before the terminal filter, in order.
	rbac []*rbacv3.RBAC
}

// decodeFilters reads the chain's network filters in order; Envoy stops at the terminal one.
func (e *explainer) decodeFilters(fc *listenerv3.FilterChain) (chainFilters, error) {
	var out chainFilters
	for _, f := range fc.GetFilters() {
		if f == nil {
			continue
		}
		e.out.Filters = append(e.out.Filters, f.GetName())
		if f.GetConfigDiscovery() != nil {
			e.out.note("network filter %q is configured through ECDS, which explain does not follow", f.GetName())
			continue
		}
		a := f.GetTypedConfig()
		if a == nil {
			continue
		}
		switch envoyres.TypeName(a) {
		case envoyres.ConnectionLimitType:
			cl := &connlimitv3.ConnectionLimit{}
			if err := unpack(a, cl, f.GetName()); err != nil {
				return out, err
			}
			e.out.ConnectionLimit = cl.GetMaxConnections().GetValue()
		case envoyres.NetworkRBACType:
			r := &rbacv3.RBAC{}
			if err := unpack(a, r, f.GetName()); err != nil {
				return out, err
			}
			out.rbac = append(out.rbac, r)
		}
		if hcm, tcp, ok, err := envoyres.Terminal(f); ok {
			if err != nil {
				return out, fmt.Errorf("network filter %q: %w", f.GetName(), err)
			}
			out.hcm, out.tcp = hcm, tcp
			return out, nil
		}
	}
	return out, nil
}

func unpack(a *anypb.Any, m proto.Message, filter string) error {
	if err := a.UnmarshalTo(m); err != nil {
		return fmt.Errorf("network filter %q: %w", filter, err)
	}
	return nil
}
