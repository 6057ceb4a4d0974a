package v1alpha1

import (
	"strings"
	"testing"
)

// gateway builds a MeshGateway document; its listeners start on line 7.
func gateway(listeners string) string {
	return "type: MeshGateway\nname: gw\nselectors:\n- match: {kuma.io/service: gw}\nconf:\n  listeners:\n" + doc(listeners)
}

const gw = "test.yaml:%d: MeshGateway default/gw: "

func TestMeshGatewayValidation(t *testing.T) {
	e := func(line int, rest string) string { return sprintf(gw, line) + rest }
	runErrCases(t, []errCase{
		{"valid", gateway(`
  - {port: 8080, protocol: HTTP, hostname: "*.example.com"}
  - {port: 8080, protocol: HTTP, hostname: "*"}
  - port: 8443
    protocol: HTTPS
    tls: {mode: TERMINATE, certificates: [{secret: a}, {inline: aGk=}]}
  - port: 9000
    protocol: TLS
    tls: {mode: PASSTHROUGH}
  - {port: 9001, protocol: TCP, resources: {connectionLimit: 10}}
  - {port: 9002, protocol: HTTP, crossMesh: true, tls: {}}
`), nil},

		// docs/kuma-compatibility.md#meshgateway-validation: selectors.
		{"no selectors", "type: MeshGateway\nname: gw\nselectors: []\nconf: {listeners: [{port: 80, protocol: HTTP}]}\n", []string{
			e(3, "selectors: must have at least one element")}},
		{"missing selectors", "type: MeshGateway\nname: gw\nconf: {listeners: [{port: 80, protocol: HTTP}]}\n", []string{
			e(1, "selectors: must have at least one element")}},
		{"selector without tags", "type: MeshGateway\nname: gw\nselectors:\n- match: {}\nconf: {listeners: [{port: 80, protocol: HTTP}]}\n", []string{
			e(4, "selectors[0].match: must have at least one tag"),
			e(4, `selectors[0].match: mandatory tag "kuma.io/service" is missing`)}},
		{"selector without service", "type: MeshGateway\nname: gw\nselectors:\n- match:\n    version: v1\nconf: {listeners: [{port: 80, protocol: HTTP}]}\n", []string{
			e(4, `selectors[0].match: mandatory tag "kuma.io/service" is missing`)}},
		{"selector charsets", "type: MeshGateway\nname: gw\nselectors:\n- match:\n    kuma.io/service: gw\n    \"bad key\": x\n    version: \"\"\n    team: \"a b\"\n    \"\": x\nconf: {listeners: [{port: 80, protocol: HTTP}]}\n", []string{
			e(4, "selectors[0].match: tag name must be non-empty"),
			e(6, `selectors[0].match["bad key"]: tag name must consist of alphanumeric characters, dots, dashes, slashes and underscores`),
			e(7, `selectors[0].match["version"]: tag value must be non-empty`),
			e(8, `selectors[0].match["team"]: tag value must consist of alphanumeric characters, dots, dashes, slashes and underscores or be "*"`)}},
		{"crossMesh allows one selector", "type: MeshGateway\nname: gw\nselectors:\n- match: {kuma.io/service: gw}\n- match: {kuma.io/service: gw2}\nconf: {listeners: [{port: 80, protocol: HTTP, crossMesh: true}]}\n", []string{
			e(5, "selectors[1]: there can be at most one selector")}},

		// docs/kuma-compatibility.md#meshgateway-validation: reserved tags.
		{"reserved gateway tags", "type: MeshGateway\nname: gw\nselectors: [{match: {kuma.io/service: gw}}]\ntags:\n  kuma.io/service: x\n  kuma.io/protocol: http\n  kuma.io/zone: z\n  kuma.io/external-service-name: e\n  team: \"*\"\nconf: {listeners: [{port: 80, protocol: HTTP}]}\n", []string{
			e(5, `tags["kuma.io/service"]: tag name must not be "kuma.io/service"`),
			e(6, `tags["kuma.io/protocol"]: tag name must not be "kuma.io/protocol"`),
			e(7, `tags["kuma.io/zone"]: tag name must not be "kuma.io/zone"`),
			e(8, `tags["kuma.io/external-service-name"]: tag name must not be "kuma.io/external-service-name"`)}},

		// docs/kuma-compatibility.md#meshgateway-validation: conf.
		{"no conf", "type: MeshGateway\nname: gw\nselectors: [{match: {kuma.io/service: gw}}]\n", []string{
			e(1, "conf: cannot be empty")}},
		{"no listeners", "type: MeshGateway\nname: gw\nselectors: [{match: {kuma.io/service: gw}}]\nconf:\n  listeners: []\n", []string{
			e(5, "conf.listeners: cannot be empty")}},

		// docs/kuma-compatibility.md#meshgateway-validation: listeners.
		{"invalid hostname", gateway(`
  - port: 80
    protocol: HTTP
    hostname: Foo.example.com
`), []string{e(9, "conf.listeners[0].hostname: invalid hostname")}},
		{"invalid wildcard", gateway(`
  - port: 80
    protocol: HTTP
    hostname: "*.foo.*.example.com"
`), []string{e(9, "conf.listeners[0].hostname: invalid wildcard domain")}},
		{"hostname too long", gateway(`
  - port: 80
    protocol: HTTP
    hostname: ` + strings.Repeat("a.", 127) + `
`), []string{e(9, "conf.listeners[0].hostname: must be at most 253 characters"), e(9, "conf.listeners[0].hostname: invalid hostname")}},
		{"port zero", gateway(`
  - port: 0
    protocol: HTTP
`), []string{e(7, "conf.listeners[0].port: port must be in the range [1, 65535]")}},
		{"port too large", gateway(`
  - port: 65536
    protocol: HTTP
`), []string{e(7, "conf.listeners[0].port: port must be in the range [1, 65535]")}},
		{"missing protocol", gateway(`
  - port: 80
`), []string{e(7, "conf.listeners[0].protocol: cannot be empty")}},
		{"protocol NONE", gateway(`
  - port: 80
    protocol: NONE
`), []string{e(8, "conf.listeners[0].protocol: cannot be empty")}},
		{"crossMesh on TCP and HTTP", gateway(`
  - {port: 5432, protocol: TCP, crossMesh: true}
  - {port: 8080, protocol: HTTP, crossMesh: true, hostname: grpc.example.com}
`), nil},
		{"HTTPS with crossMesh", gateway(`
  - port: 443
    protocol: HTTPS
    crossMesh: true
`), []string{e(8, "conf.listeners[0].protocol: "+crossMeshProtocols)}},
		{"HTTPS without tls", gateway(`
  - port: 443
    protocol: HTTPS
`), []string{e(7, "conf.listeners[0].tls: cannot be empty")}},
		{"HTTPS passthrough", gateway(`
  - port: 443
    protocol: HTTPS
    tls:
      mode: PASSTHROUGH
`), []string{e(10, "conf.listeners[0].tls.mode: mode is not supported on HTTPS listeners")}},
		{"tls without mode", gateway(`
  - port: 443
    protocol: HTTPS
    tls:
      certificates: [{secret: a}]
`), []string{e(9, "conf.listeners[0].tls.mode: cannot be empty")}},
		{"terminate without certificates", gateway(`
  - port: 443
    protocol: HTTPS
    tls:
      mode: TERMINATE
`), []string{e(9, "conf.listeners[0].tls.certificates: cannot be empty in TLS termination mode")}},
		{"more than 2 certificates", gateway(`
  - port: 443
    protocol: HTTPS
    tls:
      mode: TERMINATE
      certificates: [{secret: a}, {secret: b}, {secret: c}]
`), []string{e(11, "conf.listeners[0].tls.certificates: cannot have more than 2 certificates")}},
		{"tls with crossMesh", gateway(`
  - port: 80
    protocol: HTTP
    crossMesh: true
    tls:
      mode: TERMINATE
`), []string{e(10, "conf.listeners[0].tls: must be empty with crossMesh")}},
		{"reserved listener tags", gateway(`
  - port: 80
    protocol: HTTP
    tags:
      kuma.io/service: other
      vhost: "a b"
`), []string{
			e(10, `conf.listeners[0].tags["kuma.io/service"]: tag name must not be "kuma.io/service"`),
			e(11, `conf.listeners[0].tags["vhost"]: tag value must consist of alphanumeric characters, dots, dashes, slashes and underscores or be "*"`)}},

		// docs/kuma-compatibility.md#meshgateway-validation: listeners sharing a port.
		{"protocol conflict", gateway(`
  - {port: 80, protocol: HTTP, hostname: a.example.com}
  - {port: 80, protocol: TCP, hostname: b.example.com}
  - {port: 81, protocol: TCP}
`), []string{
			e(7, "conf.listeners[0]: protocol conflicts with other listeners on this port"),
			e(8, "conf.listeners[1]: protocol conflicts with other listeners on this port")}},
		{"same hostname", gateway(`
  - {port: 80, protocol: HTTP}
  - {port: 80, protocol: HTTP, hostname: "*"}
  - {port: 80, protocol: HTTP, hostname: a.example.com}
`), []string{
			e(7, "conf.listeners[0]: multiple listeners for hostname on this port"),
			e(8, "conf.listeners[1]: multiple listeners for hostname on this port")}},
		{"conflicting connection limits", gateway(`
  - port: 80
    protocol: HTTP
    hostname: a.example.com
    resources: {connectionLimit: 10}
  - port: 80
    protocol: HTTP
    hostname: b.example.com
    resources:
      connectionLimit: 20
  - {port: 80, protocol: HTTP, hostname: c.example.com}
`), []string{
			e(10, "conf.listeners[0].resources.connectionLimit: conflicting values for this port"),
			e(15, "conf.listeners[1].resources.connectionLimit: conflicting values for this port")}},

		// Gaps (docs/kuma-compatibility.md#meshgateway-validation).
		{"TLS without tls", gateway(`
  - port: 9000
    protocol: TLS
`), []string{e(7, "conf.listeners[0].tls: cannot be empty")}},
		{"crossMesh on TLS", gateway(`
  - port: 9000
    protocol: TLS
    crossMesh: true
`), []string{e(8, "conf.listeners[0].protocol: "+crossMeshProtocols)}},
		{"mixed crossMesh on a port", gateway(`
  - {port: 80, protocol: HTTP, hostname: a.example.com, crossMesh: true}
  - {port: 80, protocol: HTTP, hostname: b.example.com}
`), []string{
			e(7, "conf.listeners[0]: crossMesh conflicts with other listeners on this port"),
			e(8, "conf.listeners[1]: crossMesh conflicts with other listeners on this port")}},
		{"tls on HTTP", gateway(`
  - port: 80
    protocol: HTTP
    tls: {mode: TERMINATE, certificates: [{secret: a}]}
`), []string{e(9, "conf.listeners[0].tls: cannot be used with protocol HTTP: TLS settings would be ignored (use protocol HTTPS)")}},
		{"tls on TCP", gateway(`
  - port: 80
    protocol: TCP
    tls: {mode: PASSTHROUGH}
`), []string{e(9, "conf.listeners[0].tls: cannot be used with protocol TCP: TLS settings would be ignored (use protocol TLS)")}},
		{"passthrough with certificates", gateway(`
  - port: 9000
    protocol: TLS
    tls:
      mode: PASSTHROUGH
      certificates:
      - secret: a
`), []string{e(11, "conf.listeners[0].tls.certificates: must be empty in TLS passthrough mode")}},
		{"data source without a source", gateway(`
  - port: 443
    protocol: HTTPS
    tls:
      mode: TERMINATE
      certificates:
      - {}
`), []string{e(12, "conf.listeners[0].tls.certificates[0]: data source has to be chosen. Available sources: secret, file, inline, inlineString")}},
		{"data source with two sources", gateway(`
  - port: 443
    protocol: HTTPS
    tls:
      mode: TERMINATE
      certificates:
      - secret: a
        file: /etc/cert.pem
`), []string{e(12, "conf.listeners[0].tls.certificates[0]: only one of secret, file, inline or inlineString can be set")}},
		{"inline that is not base64", gateway(`
  - port: 443
    protocol: HTTPS
    tls:
      mode: TERMINATE
      certificates:
      - inline: "not base64!"
`), []string{e(12, "conf.listeners[0].tls.certificates[0].inline: must be valid base64")}},
	})
}
