package v1alpha1

import "testing"

func TestProxylessLabelValidation(t *testing.T) {
	const head = "type: Dataplane\nname: dp\nlabels: {meshgate.io/proxy-type: %s}\nnetworking:\n  address: 10.0.0.1\n"
	const inbound = "  inbound: [{port: 9090, tags: {kuma.io/service: grpc-api}}]\n"
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: Dataplane default/dp: ", line) + rest
	}
	runErrCases(t, []errCase{
		{"proxyless", sprintf(head, "proxyless") + inbound, nil},
		{"misspelt", sprintf(head, "proxyles") + inbound, []string{
			e(1, `labels["meshgate.io/proxy-type"]: must be "proxyless" (or absent, for an Envoy), got "proxyles"`)}},
		{"gateway", sprintf(head, "proxyless") + "  gateway: {tags: {kuma.io/service: kong}}\n", []string{
			e(6, "networking.gateway: a proxyless (gRPC) dataplane cannot be a gateway")}},
		{"transparent proxying", sprintf(head, "proxyless") + inbound + "  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}\n", []string{
			e(7, "networking.transparentProxying: a proxyless (gRPC) dataplane dials its outbounds itself; there is no traffic to redirect")}},
	})
}
