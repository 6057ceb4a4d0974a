package envoyres

import (
	"strings"

	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	localratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	connlimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/connection_limit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbacv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// The full names of the typed configs meshgate reads back, taken from the generated messages so
// that no caller spells one out (a typo there would silently match nothing).
var (
	HTTPConnectionManagerType = typeOf(&hcmv3.HttpConnectionManager{})
	TCPProxyType              = typeOf(&tcpproxyv3.TcpProxy{})
	NetworkRBACType           = typeOf(&rbacv3.RBAC{})
	ConnectionLimitType       = typeOf(&connlimitv3.ConnectionLimit{})
	RouterType                = typeOf(&routerv3.Router{})
	HTTPFaultType             = typeOf(&faultv3.HTTPFault{})
	LocalRateLimitType        = typeOf(&localratelimitv3.LocalRateLimit{})
	// HTTPProtocolOptionsType is also the key of a cluster's HTTP connection pool options in
	// typed_extension_protocol_options.
	HTTPProtocolOptionsType = typeOf(&upstreamhttpv3.HttpProtocolOptions{})
)

func typeOf(m proto.Message) string { return string(proto.MessageName(m)) }

// TypeName is the full name of the message an Any holds: its type URL after the last '/'. It
// is "" for a nil Any.
func TypeName(a *anypb.Any) string {
	u := a.GetTypeUrl()
	return u[strings.LastIndexByte(u, '/')+1:]
}
