package build

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

// The redirect listeners a transparent proxy gets, as kuma-cp 2.13 builds them: both
// directions for sidecars and delegated gateways alike, and IPv6 twins unless the proxy
// redirects only IPv4 (an IPv6 dataplane always has them).
func TestPassthroughListeners(t *testing.T) {
	const sidecar = "  inbound: [{port: 8080, tags: {kuma.io/service: web, kuma.io/protocol: http}}]\n"
	const delegated = "  gateway: {tags: {kuma.io/service: kong}}\n"
	v4 := []string{"outbound:passthrough:ipv4 0.0.0.0:15001", "inbound:passthrough:ipv4 0.0.0.0:15006"}
	v6 := []string{"outbound:passthrough:ipv6 [::]:15001", "inbound:passthrough:ipv6 [::]:15006"}
	cases := []struct {
		name, address, role, tp string
		want                    []string
	}{
		{"sidecar, dual stack by default", "10.0.0.1", sidecar, "redirectPortInbound: 15006, redirectPortOutbound: 15001", append(v4, v6...)},
		{"sidecar, explicit dual stack", "10.0.0.1", sidecar, "redirectPortInbound: 15006, redirectPortOutbound: 15001, ipFamilyMode: DualStack", append(v4, v6...)},
		{"sidecar, IPv4 only", "10.0.0.1", sidecar, "redirectPortInbound: 15006, redirectPortOutbound: 15001, ipFamilyMode: IPv4", v4},
		{"sidecar, kumactl spelling", "10.0.0.1", sidecar, "redirectPortInbound: 15006, redirectPortOutbound: 15001, ipFamilyMode: ipv4", v4},
		{"IPv6 sidecar, IPv4 mode", "fd00::1", sidecar, "redirectPortInbound: 15006, redirectPortOutbound: 15001, ipFamilyMode: IPv4", append(v4, v6...)},
		{"outbound redirect only", "10.0.0.1", sidecar, "redirectPortOutbound: 15001, ipFamilyMode: IPv4", v4[:1]},
		{"delegated gateway", "10.0.0.5", delegated, "redirectPortInbound: 15006, redirectPortOutbound: 15001", append(v4, v6...)},
		{"delegated gateway, IPv4 only", "10.0.0.5", delegated, "redirectPortInbound: 15006, redirectPortOutbound: 15001, ipFamilyMode: IPv4", v4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := sidecarModel(t, "type: Dataplane\nname: dp\nmesh: default\nnetworking:\n  address: "+c.address+"\n"+c.role+
				"  transparentProxying: {"+c.tp+"}\n")
			p, err := Proxy(Request{Model: m, Mesh: "default", Name: "dp", Options: DefaultOptions()})
			require.NoError(t, err)
			require.NoError(t, p.Validate())
			var got []string
			clusters := map[string]ir.Cluster{}
			for _, cl := range p.Clusters {
				clusters[cl.Name] = cl
			}
			for _, l := range p.Listeners {
				if !l.UseOriginalDst {
					continue
				}
				addr := l.Address
				if strings.Contains(addr, ":") {
					addr = "[" + addr + "]"
				}
				got = append(got, fmt.Sprintf("%s %s:%d", l.Name, addr, l.Port))
				c, ok := clusters[l.DefaultChain.TCP.Clusters[0].Name]
				require.True(t, ok, "cluster of %s", l.Name)
				assert.Equal(t, ir.ClusterOriginalDst, c.Type)
				switch l.Name {
				case "inbound:passthrough:ipv4":
					assert.Equal(t, "127.0.0.6", c.BindAddress)
				case "inbound:passthrough:ipv6":
					assert.Equal(t, "::6", c.BindAddress)
				default:
					assert.Empty(t, c.BindAddress)
				}
			}
			assert.ElementsMatch(t, c.want, got)
		})
	}
}
