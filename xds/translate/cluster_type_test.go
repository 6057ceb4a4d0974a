package translate

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/meshgate/meshgate/xds/ir"
)

func TestClusterTypes(t *testing.T) {
	cases := []struct {
		name   string
		in     ir.Cluster
		typ    clusterv3.Cluster_DiscoveryType
		lb     clusterv3.Cluster_LbPolicy
		inline []string // inline load_assignment addresses; nil for none
		cla    bool     // a separate ClusterLoadAssignment
	}{
		{"EDS", ir.Cluster{Name: "api", Service: "api", Protocol: ir.ClusterHTTP, Endpoints: []ir.Endpoint{{Address: "10.0.0.1", Port: 80}}},
			clusterv3.Cluster_EDS, clusterv3.Cluster_ROUND_ROBIN, nil, true},
		{"STATIC", ir.Cluster{Name: "localhost:8080", Type: ir.ClusterStatic, Service: "web", Protocol: ir.ClusterHTTP,
			Endpoints: []ir.Endpoint{{Address: "127.0.0.2", Port: 8080}, {Address: "127.0.0.1", Port: 8080}}},
			clusterv3.Cluster_STATIC, clusterv3.Cluster_ROUND_ROBIN, []string{"127.0.0.1", "127.0.0.2"}, false},
		{"STRICT_DNS", ir.Cluster{Name: "httpbin", Type: ir.ClusterStrictDNS, Service: "httpbin", Protocol: ir.ClusterTCP,
			Endpoints: []ir.Endpoint{{Address: "httpbin.org", Port: 443}}},
			clusterv3.Cluster_STRICT_DNS, clusterv3.Cluster_ROUND_ROBIN, []string{"httpbin.org"}, false},
		{"ORIGINAL_DST", ir.Cluster{Name: "outbound:passthrough:ipv4", Type: ir.ClusterOriginalDst, Service: "pass", Protocol: ir.ClusterTCP},
			clusterv3.Cluster_ORIGINAL_DST, clusterv3.Cluster_CLUSTER_PROVIDED, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := translateCluster(t, c.in)
			assert.Equal(t, c.typ, out.GetType())
			assert.Equal(t, c.lb, out.GetLbPolicy())
			assert.Equal(t, 5*time.Second, out.GetConnectTimeout().AsDuration())
			assert.Equal(t, c.cla, hasLoadAssignment(c.in))
			if c.typ == clusterv3.Cluster_EDS {
				assert.Equal(t, c.in.Name, out.GetEdsClusterConfig().GetServiceName())
			} else {
				assert.Nil(t, out.GetEdsClusterConfig())
			}
			if c.typ == clusterv3.Cluster_STRICT_DNS {
				assert.Equal(t, clusterv3.Cluster_V4_PREFERRED, out.GetDnsLookupFamily())
			} else {
				assert.Equal(t, clusterv3.Cluster_AUTO, out.GetDnsLookupFamily(), "left unset")
			}
			if c.inline == nil {
				assert.Nil(t, out.GetLoadAssignment())
				return
			}
			la := out.GetLoadAssignment()
			requireValid(t, la)
			assert.Equal(t, c.in.Name, la.GetClusterName())
			var addrs []string
			for _, lb := range la.GetEndpoints()[0].GetLbEndpoints() {
				addrs = append(addrs, lb.GetEndpoint().GetAddress().GetSocketAddress().GetAddress())
			}
			assert.Equal(t, c.inline, addrs)
		})
	}
}

// The EDS path is the gateway's: the Type field's zero value changes nothing.
func TestClusterEDSUnchangedByExplicitType(t *testing.T) {
	for _, c := range fixture().Clusters {
		before := translateCluster(t, c)
		c.Type = ir.ClusterEDS
		assert.True(t, proto.Equal(before, translateCluster(t, c)))
	}
}

func TestClusterConnectTimeout(t *testing.T) {
	cases := []struct {
		in   time.Duration
		want time.Duration
	}{{0, 5 * time.Second}, {250 * time.Millisecond, 250 * time.Millisecond}, {30 * time.Second, 30 * time.Second}}
	for _, c := range cases {
		t.Run(c.in.String(), func(t *testing.T) {
			out := translateCluster(t, ir.Cluster{Name: "a", Service: "a", Protocol: ir.ClusterTCP, ConnectTimeout: c.in})
			assert.Equal(t, c.want, out.GetConnectTimeout().AsDuration())
		})
	}
}

func TestClusterHTTP2OnEveryType(t *testing.T) {
	for _, typ := range []ir.ClusterType{ir.ClusterEDS, ir.ClusterStatic, ir.ClusterStrictDNS, ir.ClusterOriginalDst} {
		t.Run(string(typ), func(t *testing.T) {
			c := ir.Cluster{Name: "a", Type: typ, Service: "a", Protocol: ir.ClusterHTTP2}
			if typ == ir.ClusterStatic || typ == ir.ClusterStrictDNS {
				c.Endpoints = []ir.Endpoint{{Address: "127.0.0.1", Port: 80}}
			}
			out := translateCluster(t, c)
			raw := out.GetTypedExtensionProtocolOptions()[httpProtocolOptionsKey]
			require.NotNil(t, raw)
			h2 := unpack(t, raw, &upstreamhttpv3.HttpProtocolOptions{}).GetExplicitHttpConfig().GetHttp2ProtocolOptions()
			assert.Equal(t, uint32(65536), h2.GetInitialStreamWindowSize().GetValue())
			assert.Equal(t, uint32(1048576), h2.GetInitialConnectionWindowSize().GetValue())
		})
	}
}
