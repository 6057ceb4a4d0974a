package v1alpha1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExternalServiceValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: ExternalService default/es: ", line) + rest
	}
	const head = "type: ExternalService\nname: es\n"
	// es builds a document whose networking starts on line 4.
	es := func(networking string) string {
		return head + "tags: {kuma.io/service: httpbin}\nnetworking:\n" + doc(networking)
	}
	runErrCases(t, []errCase{
		{"valid", es("  address: httpbin.org:443\n"), nil},
		{"valid IPv4", es("  address: 10.0.0.1:80\n"), nil},
		{"valid IPv6", es("  address: \"[2001:db8::1]:8443\"\n"), nil},
		{"valid TLS", es(`  address: httpbin.org:443
  disableHostDNSEntry: true
  tls:
    enabled: true
    allowRenegotiation: true
    skipHostnameVerification: true
    serverName: api.httpbin.org
    caCert: {file: /etc/ca.pem}
    clientCert: {inlineString: cert}
    clientKey: {secret: key}
`), nil},
		{"valid protocols", head + "tags: {kuma.io/service: a, kuma.io/protocol: grpc, version: \"1.0\"}\nnetworking: {address: a.example:1}\n", nil},

		{"no networking", head + "tags: {kuma.io/service: httpbin}\n", []string{
			e(1, "networking: should have networking")}},
		{"no tags", head + "networking: {address: httpbin.org:443}\n", []string{
			e(1, `tags: mandatory tag "kuma.io/service" is missing`)}},
		{"tags without service", head + "tags:\n  version: v1\nnetworking: {address: httpbin.org:443}\n", []string{
			e(3, `tags: mandatory tag "kuma.io/service" is missing`)}},
		// ExternalService tags are tags, not selectors: no `*`, no `/` in values.
		{"tag charsets", head + "tags:\n  kuma.io/service: \"*\"\n  path: a/b\nnetworking: {address: httpbin.org:443}\n", []string{
			e(4, `tags["kuma.io/service"]: tag value must consist of alphanumeric characters, dots, dashes and underscores`),
			e(5, `tags["path"]: tag value must consist of alphanumeric characters, dots, dashes and underscores`)}},
		{"invalid protocol", head + "tags:\n  kuma.io/service: httpbin\n  kuma.io/protocol: https\nnetworking: {address: httpbin.org:443}\n", []string{
			e(5, `tags["kuma.io/protocol"]: tag "kuma.io/protocol" has an invalid value "https". Allowed values: grpc, http, http2, kafka, tcp`)}},
		{"service equals host", head + "tags:\n  kuma.io/service: httpbin.org\nnetworking: {address: httpbin.org:443}\n", []string{
			e(4, `tags["kuma.io/service"]: cannot be the same as networking.address`)}},

		{"address missing", es("  disableHostDNSEntry: false\n"), []string{
			e(4, "networking.address: address can't be empty")}},
		{"address without port", es("  address: httpbin.org\n"), []string{
			e(5, "networking.address: unable to parse address")}},
		{"address with invalid host", es("  address: \"bad host!:443\"\n"), []string{
			e(5, "networking.address: address has to be a valid IP address or a domain name")}},
		{"address with empty host", es("  address: \":443\"\n"), []string{
			e(5, "networking.address: address has to be a valid IP address or a domain name")}},
		{"address with named port", es("  address: httpbin.org:https\n"), []string{
			e(5, "networking.address: unable to parse port in address")}},
		{"address with port zero", es("  address: httpbin.org:0\n"), []string{
			e(5, "networking.address: port must be in the range [1, 65535]")}},
		{"address with port too large", es("  address: httpbin.org:65536\n"), []string{
			e(5, "networking.address: port must be in the range [1, 65535]")}},

		{"empty serverName", es("  address: httpbin.org:443\n  tls:\n    enabled: true\n    serverName: \"\"\n"), []string{
			e(8, "networking.tls.serverName: cannot be empty")}},
		{"empty data source", es("  address: httpbin.org:443\n  tls:\n    caCert: {}\n"), []string{
			e(7, "networking.tls.caCert: data source cannot be empty")}},
		{"two data sources", es("  address: httpbin.org:443\n  tls:\n    caCert: {secret: a, file: /b}\n"), []string{
			e(7, "networking.tls.caCert: only one of secret, file, inline or inlineString can be set")}},
		{"inline not base64", es("  address: httpbin.org:443\n  tls:\n    caCert:\n      inline: \"!!\"\n"), []string{
			e(8, "networking.tls.caCert.inline: must be valid base64")}},
		{"client cert without key", es("  address: httpbin.org:443\n  tls:\n    enabled: true\n    clientCert: {secret: c}\n"), []string{
			e(6, "networking.tls.clientKey: cannot be empty when clientCert is set")}},
		{"client key without cert", es("  address: httpbin.org:443\n  tls:\n    enabled: true\n    clientKey: {secret: k}\n"), []string{
			e(6, "networking.tls.clientCert: cannot be empty when clientKey is set")}},
		{"unknown tls field", es("  address: httpbin.org:443\n  tls:\n    verifySNI: true\n"), []string{
			e(7, `networking.tls: unknown field "verifySNI"`)}},
		{"enabled not a boolean", es("  address: httpbin.org:443\n  tls: {enabled: \"yes\"}\n"), []string{
			e(6, "networking.tls.enabled: must be a boolean")}},
	})
}

func TestExternalServiceAccessors(t *testing.T) {
	objs, errs := LoadFiles([]string{"testdata/policies/externalservice-k8s.yaml"})
	require.Empty(t, errs)
	es := objs[0].(*ExternalService)
	assert.Equal(t, "ExternalService default/httpbin", es.DisplayName())
	assert.Equal(t, "httpbin", es.Service())
	assert.Equal(t, "http", es.Protocol())
	assert.Equal(t, "httpbin.org", es.Host())
	assert.Equal(t, uint32(443), es.Port())
	assert.True(t, es.TLSEnabled())
	assert.Equal(t, "httpbin.org", es.ServerName())
	tls := es.Spec.Networking.TLS
	assert.Equal(t, &DataSource{Inline: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"}, tls.CACert)
	assert.Equal(t, &DataSource{Secret: "client-cert"}, tls.ClientCert)
	assert.Equal(t, &DataSource{Secret: "client-key"}, tls.ClientKey)
	assert.False(t, tls.AllowRenegotiation)
	assert.Equal(t, 21, es.Source.Fields["networking.tls.clientKey.secret"])

	es = decodeOne(t, `
type: ExternalService
mesh: payments
name: db
tags: {kuma.io/service: db}
networking:
  address: "[2001:db8::7]:5432"
  tls: {enabled: false, server_name: db.internal}
`).(*ExternalService)
	assert.Equal(t, "tcp", es.Protocol(), "Kuma's default protocol")
	assert.Equal(t, "2001:db8::7", es.Host())
	assert.Equal(t, uint32(5432), es.Port())
	assert.False(t, es.TLSEnabled())
	assert.Equal(t, "db.internal", es.ServerName())

	es = decodeOne(t, "type: ExternalService\nname: web\ntags: {kuma.io/service: web}\nnetworking: {address: web.example.com:80, disableHostDNSEntry: true}\n").(*ExternalService)
	assert.True(t, es.Spec.Networking.DisableHostDNSEntry)
	assert.Equal(t, "web.example.com", es.ServerName(), "SNI defaults to the host")

	var empty ExternalService
	assert.Equal(t, "", empty.Host())
	assert.Equal(t, uint32(0), empty.Port())
	assert.False(t, empty.TLSEnabled())
}
