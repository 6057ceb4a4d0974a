package gatewayinstance

import (
	"sort"
	"strconv"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

// matchGateway picks the MeshGateway of mesh that serves tags: among those with a selector
// matching them, the most specific selector wins, then the lowest name, so the choice is
// stable whatever order the informer lists them in.
func matchGateway(gateways []*api.MeshGateway, mesh string, tags map[string]string) *api.MeshGateway {
	var best *api.MeshGateway
	var bestRank model.Rank
	for _, gw := range gateways {
		if gw.Mesh != mesh {
			continue
		}
		sels := make([]map[string]string, len(gw.Spec.Selectors))
		for i, s := range gw.Spec.Selectors {
			sels[i] = s.Match
		}
		r, ok := model.BestMatch(sels, tags)
		if !ok {
			continue
		}
		if best == nil || r.Compare(bestRank) > 0 || (r.Compare(bestRank) == 0 && gw.Name < best.Name) {
			best, bestRank = gw, r
		}
	}
	return best
}

// listenerPort is one port the gateway listens on, as the Service and container expose it.
type listenerPort struct {
	Name string
	Port int32
}

// listenerPorts returns one port per distinct listener port, sorted. Listeners sharing a port
// (several hostnames on 8080) are one port; its name comes from the first listener's protocol.
func listenerPorts(gw *api.MeshGateway) []listenerPort {
	seen := map[uint32]bool{}
	var out []listenerPort
	if gw.Spec.Conf == nil {
		return nil
	}
	for _, l := range gw.Spec.Conf.Listeners {
		if seen[l.Port] {
			continue
		}
		seen[l.Port] = true
		out = append(out, listenerPort{
			Name: portName(l.Protocol, l.Port),
			Port: int32(l.Port),
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Port < out[j].Port })
	return out
}

// portName is `<protocol>-<port>`, at most 11 characters, within Kubernetes' 15 for port names.
func portName(p api.Protocol, port uint32) string {
	proto := strings.ToLower(string(p))
	if proto == "" {
		proto = "tcp"
	}
	return proto + "-" + strconv.FormatUint(uint64(port), 10)
}
