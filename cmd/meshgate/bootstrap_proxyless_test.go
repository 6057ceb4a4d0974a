package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const proxylessDataplaneYAML = `type: Dataplane
mesh: payments
name: ledger-1
labels: {meshgate.io/proxy-type: proxyless}
networking:
  address: 127.0.0.1
  inbound: [{port: 9090, tags: {kuma.io/service: ledger, kuma.io/protocol: grpc}}]
`

// `bootstrap --proxyless` prints gRPC's bootstrap with absolute paths (gRPC resolves them from
// the application's directory, not the one the command ran in) and no token inside.
func TestBootstrapProxyless(t *testing.T) {
	dir := t.TempDir()
	dp := filepath.Join(dir, "dp.yaml")
	require.NoError(t, os.WriteFile(dp, []byte(proxylessDataplaneYAML), 0o600))
	caFile, _ := cpCAFile(t)
	t.Chdir(dir)
	out, stderr, code := runCLI(t, "bootstrap", "--proxyless", "--dataplane-file", dp, "--cp-ca-file", caFile, "--cert-dir", "certs")
	require.Equal(t, 0, code, stderr)
	var b struct {
		XDSServers []struct {
			URI          string `json:"server_uri"`
			ChannelCreds []struct {
				Type   string            `json:"type"`
				Config map[string]string `json:"config"`
			} `json:"channel_creds"`
		} `json:"xds_servers"`
		Node struct {
			ID string `json:"id"`
		} `json:"node"`
		CertificateProviders map[string]struct {
			Config map[string]string `json:"config"`
		} `json:"certificate_providers"`
		Template string `json:"server_listener_resource_name_template"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &b), out)
	assert.Equal(t, "payments.ledger-1", b.Node.ID)
	assert.Equal(t, "127.0.0.1:5678", b.XDSServers[0].URI)
	assert.Equal(t, caFile, b.XDSServers[0].ChannelCreds[0].Config["ca_certificate_file"])
	wd, err := os.Getwd()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(wd, "certs", "svid.pem"), b.CertificateProviders["meshgate-identity"].Config["certificate_file"],
		"--cert-dir made absolute")
	assert.Equal(t, "inbound:%s", b.Template)
}

func TestBootstrapProxylessRefusesAnEnvoy(t *testing.T) {
	caFile, _ := cpCAFile(t)
	_, stderr, code := runCLI(t, "bootstrap", "--proxyless", "--dataplane-file", example+"/gateway.yaml", "--cp-ca-file", caFile, "--cert-dir", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "not labelled meshgate.io/proxy-type: proxyless")
}
