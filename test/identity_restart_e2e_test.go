package test

import (
	"net/http"
	"testing"

	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// restartMesh is an mTLS mesh with the builtin CA's default (24 h) leaves: nothing is due for
// renewal while the test runs.
const restartMesh = `
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
`

// TestRestartKeepsIdentity: a control plane restarted on the same data dir serves a dataplane
// the workload certificate it had before, byte for byte and at the same SDS version, so a
// restart pushes no new secret to any Envoy.
func TestRestartKeepsIdentity(t *testing.T) {
	dataDir := t.TempDir()
	cp := startCP(t, dataDir)
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", append([]byte(restartMesh+"\n---\n"), exampleYAML(t)...))
	require.Equal(t, http.StatusOK, code, string(body))
	token := tokenFor(t, cp, "default", "gateway-instance-1")
	secretNames := []string{"identity_cert:secret:default", "mesh_ca:secret:default"}

	// fetch connects as the gateway's Envoy: xDS versions by type (SDS included) and secrets.
	fetch := func(cp *runningCP) (map[string]string, map[string]*tlsv3.Secret) {
		t.Helper()
		gw := newSotW(t, dialADS(t, cp.addrs.XDS), gatewayNode, token)
		versions := fetchAll(t, gw)
		gw.subscribe(resourcev3.SecretType, secretNames...)
		sds := gw.next(resourcev3.SecretType, wait)
		gw.ack(sds, secretNames...)
		versions[resourcev3.SecretType] = sds.VersionInfo
		return versions, secretsOf(t, sds)
	}
	versions, before := fetch(cp)
	first := verifySVID(t, before, "spiffe://default/edge-gateway")

	cp.stop()
	cp2 := startCP(t, dataDir)
	versions2, after := fetch(cp2)
	second := verifySVID(t, after, "spiffe://default/edge-gateway")

	assert.True(t, first.Equal(second), "the same certificate after the restart: serial %x, then %x", first.SerialNumber, second.SerialNumber)
	for _, name := range secretNames {
		require.NotNil(t, after[name], name)
		assert.True(t, proto.Equal(before[name], after[name]), "secret %s byte-identical after the restart", name)
	}
	assert.Equal(t, versions[resourcev3.SecretType], versions2[resourcev3.SecretType], "SDS version after the restart")
	assert.Equal(t, versions, versions2, "every xDS version after the restart")
}
