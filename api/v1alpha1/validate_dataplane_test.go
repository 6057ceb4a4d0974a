package v1alpha1

import "testing"

func TestDataplaneValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: Dataplane default/dp: ", line) + rest
	}
	const head = "type: Dataplane\nname: dp\nnetworking:\n"
	runErrCases(t, []errCase{
		{"valid builtin gateway", head + "  address: gw.example.com\n  gateway:\n    type: BUILTIN\n    tags: {kuma.io/service: gw, kuma.io/protocol: tcp}\n", nil},
		{"valid delegated gateway", head + "  address: 10.0.0.1\n  gateway: {tags: {kuma.io/service: kong}}\n  outbound: [{port: 10001, tags: {kuma.io/service: api}}]\nprobes: {port: 9000}\n", nil},
		{"valid sidecar", head + "  address: 10.0.0.1\n  admin: {port: 9901}\n  inbound:\n  - {port: 8080, servicePort: 80, serviceAddress: 127.0.0.1, tags: {kuma.io/service: web, kuma.io/protocol: http}}\n  outbound:\n  - {port: 10001, address: 127.0.0.1, tags: {kuma.io/service: api, kuma.io/mesh: other}}\n", nil},

		// docs/kuma-compatibility.md#dataplane-gateway: builtin gateways.
		{"builtin with inbound, outbound and probes", head + `  address: 10.0.0.1
  gateway:
    type: BUILTIN
    tags: {kuma.io/service: gw}
  inbound:
  - {port: 8080, tags: {kuma.io/service: gw}}
  outbound:
  - {port: 10001, tags: {kuma.io/service: api}}
probes:
  port: 9000
`, []string{
			e(8, "networking.inbound: inbound cannot be defined for builtin gateways"),
			e(10, "networking.outbound: outbound cannot be defined for builtin gateways"),
			e(12, "probes: probes cannot be defined for builtin gateways")}},
		// docs/kuma-compatibility.md#dataplane-gateway: delegated gateways (DELEGATED is the default type).
		{"delegated with inbound", head + "  address: 10.0.0.1\n  gateway:\n    tags: {kuma.io/service: kong}\n  inbound:\n  - {port: 8080, tags: {kuma.io/service: kong}}\n", []string{
			e(7, "networking.inbound: inbound cannot be defined for delegated gateways")}},
		{"explicit DELEGATED with inbound", head + "  address: 10.0.0.1\n  gateway:\n    type: DELEGATED\n    tags: {kuma.io/service: kong}\n  inbound:\n  - {port: 8080, tags: {kuma.io/service: kong}}\n", []string{
			e(8, "networking.inbound: inbound cannot be defined for delegated gateways")}},
		{"gateway tags without service", head + "  address: 10.0.0.1\n  gateway:\n    type: BUILTIN\n    tags:\n      team: edge\n", []string{
			e(7, `networking.gateway.tags: mandatory tag "kuma.io/service" is missing`)}},
		{"gateway protocol other than tcp", head + "  address: 10.0.0.1\n  gateway:\n    type: BUILTIN\n    tags:\n      kuma.io/service: gw\n      kuma.io/protocol: http\n", []string{
			e(9, `networking.gateway.tags["kuma.io/protocol"]: other values than tcp are not allowed, provided value "http"`)}},
		{"gateway tag values", head + "  address: 10.0.0.1\n  gateway:\n    tags:\n      kuma.io/service: gw\n      path: a/b\n      any: \"*\"\n", []string{
			e(8, `networking.gateway.tags["path"]: tag value must consist of alphanumeric characters, dots, dashes and underscores`),
			e(9, `networking.gateway.tags["any"]: tag value must consist of alphanumeric characters, dots, dashes and underscores`)}},

		// Networking.
		{"no address", head + "  gateway:\n    type: BUILTIN\n    tags: {kuma.io/service: gw}\n", []string{
			e(3, "networking.address: address can't be empty")}},
		{"unspecified address", head + "  address: 0.0.0.0\n  gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}\n", []string{
			e(4, "networking.address: must not be 0.0.0.0 or ::")}},
		{"invalid address", head + "  address: \"not an address!\"\n  gateway: {type: BUILTIN, tags: {kuma.io/service: gw}}\n", []string{
			e(4, "networking.address: address has to be valid IP address or domain name")}},
		// Transparent proxying: Kuma's IP family modes in either spelling; the deprecated IPv6
		// inbound port still loads.
		{"transparent proxying modes", head + "  address: 10.0.0.1\n  gateway: {tags: {kuma.io/service: kong}}\n  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001, redirectPortInboundV6: 15010, ipFamilyMode: ipv4}\n", nil},
		{"transparent proxying bad mode and port", head + "  address: 10.0.0.1\n  gateway: {tags: {kuma.io/service: kong}}\n  transparentProxying:\n    redirectPortOutbound: 70000\n    ipFamilyMode: IPv6Only\n", []string{
			e(7, `networking.transparentProxying.redirectPortOutbound: must be in [0, 65535], got 70000`),
			e(8, `networking.transparentProxying.ipFamilyMode: "IPv6Only" is not one of UnSpecified, DualStack, IPv4`)}},
		{"transparent proxying one port for both directions", head + "  address: 10.0.0.1\n  inbound: [{port: 80, tags: {kuma.io/service: web}}]\n  transparentProxying: {redirectPortInbound: 15001, redirectPortOutbound: 15001}\n", []string{
			e(6, `networking.transparentProxying.redirectPortInbound: must differ from redirectPortOutbound (15001)`)}},
		{"sidecar without inbound", head + "  address: 10.0.0.1\n", []string{
			e(3, "networking: has to contain at least one inbound interface or gateway")}},
		{"inbound rules", head + `  address: 10.0.0.1
  inbound:
  - port: 0
    servicePort: 70000
    serviceAddress: localhost
    address: 10.0.0.1.5
    tags:
      kuma.io/protocol: websocket
      version: v/1
  - port: 8080
    serviceAddress: 10.0.0.1
    tags: {kuma.io/service: web}
`, []string{
			e(6, "networking.inbound[0].port: port must be in the range [1, 65535]"),
			e(7, "networking.inbound[0].servicePort: port must be in the range [1, 65535]"),
			e(8, "networking.inbound[0].serviceAddress: serviceAddress has to be valid IP address"),
			e(9, "networking.inbound[0].address: address has to be valid IP address"),
			e(10, `networking.inbound[0].tags["kuma.io/service"]: tag has to exist`),
			e(11, `networking.inbound[0].tags["kuma.io/protocol"]: tag "kuma.io/protocol" has an invalid value "websocket". Allowed values: grpc, http, http2, kafka, tcp`),
			e(12, `networking.inbound[0].tags["version"]: tag value must consist of alphanumeric characters, dots, dashes and underscores`),
			e(14, "networking.inbound[1].serviceAddress: serviceAddress and servicePort has to differ from address and port")}},
		{"outbound rules", head + `  address: 10.0.0.1
  inbound: [{port: 8080, tags: {kuma.io/service: web}}]
  outbound:
  - port: 70000
    address: api.local
  - port: 10001
    tags: {version: v1}
`, []string{
			e(7, "networking.outbound[0].port: port must be in the range [1, 65535]"),
			e(7, `networking.outbound[0].tags: mandatory tag "kuma.io/service" is missing`),
			e(8, "networking.outbound[0].address: address has to be valid IP address"),
			e(10, `networking.outbound[1].tags: mandatory tag "kuma.io/service" is missing`)}},
		{"admin port used by an inbound", head + "  address: 10.0.0.1\n  admin:\n    port: 8080\n  inbound: [{port: 8080, tags: {kuma.io/service: web}}]\n  outbound: [{port: 8080, tags: {kuma.io/service: api}}]\n", []string{
			e(6, "networking.admin.port: must differ from inbound"),
			e(6, "networking.admin.port: must differ from outbound")}},
	})
}
