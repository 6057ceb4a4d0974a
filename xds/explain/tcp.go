package explain

import (
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
)

// explainTCP reports where a TCP proxy sends the connection.
func (e *explainer) explainTCP(t *tcpproxyv3.TcpProxy) {
	act := &Action{}
	switch cs := t.GetClusterSpecifier().(type) {
	case *tcpproxyv3.TcpProxy_Cluster:
		act.Forward = []Backend{e.backend(cs.Cluster, 1, 0)}
	case *tcpproxyv3.TcpProxy_WeightedClusters:
		for _, c := range cs.WeightedClusters.GetClusters() {
			if c != nil {
				act.Forward = append(act.Forward, e.backend(c.GetName(), c.GetWeight(), 0))
			}
		}
	}
	if len(act.Forward) == 0 {
		e.out.Action = &Action{Close: true}
		e.out.Reason = "the tcp_proxy names no cluster: Envoy closes the connection"
		return
	}
	if n := t.GetMaxConnectAttempts(); n != nil {
		act.MaxConnectAttempts = n.GetValue()
	}
	if d := t.GetIdleTimeout(); d != nil {
		act.IdleTimeout = formatDuration(d)
	}
	e.out.Action = act
}
