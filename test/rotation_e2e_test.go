package test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/controlplane"
)

// 30 s leaves: rotation's settle time (1.5 s) and jitter window (3 s) scale with the leaf's
// lifetime, and renewal (at 24 s) stays out of the way.
const rotationMeshBefore = `
type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
      dpCert: {rotation: {expiration: 30s}}
`

// The old backend is removed in the same change that enables the new one: only the retiring
// root keeps old leaves trusted.
const rotationMeshAfter = `
type: Mesh
name: default
mtls:
  enabledBackend: ca-2
  backends:
    - name: ca-2
      type: builtin
      dpCert: {rotation: {expiration: 30s}}
`

func bundleRoots(t *testing.T, sds map[string]string) []string {
	t.Helper()
	cs, err := certs.ParseCertificates([]byte(sds["bundle"]))
	require.NoError(t, err)
	var out []string
	for _, c := range cs {
		out = append(out, ca.Fingerprint(c))
	}
	return out
}

func sdsPEMs(t *testing.T, gw *sotwClient, names []string, timeout time.Duration) map[string]string {
	t.Helper()
	resp := gw.next(resourcev3.SecretType, timeout)
	gw.ack(resp, names...)
	s := secretsOf(t, resp)
	verifySVID(t, s, "spiffe://default/edge-gateway")
	return map[string]string{
		"leaf":   s["identity_cert:secret:default"].GetTlsCertificate().GetCertificateChain().GetInlineString(),
		"bundle": s["mesh_ca:secret:default"].GetValidationContext().GetTrustedCa().GetInlineString(),
	}
}

// TestCARotationOverADS: switching a mesh to a new CA backend through the API, a gateway's ADS
// stream receives, as separate secret pushes, the transition bundle (old and new roots) with its
// old leaf, then a leaf from the new root, then the bundle without the old root; listeners and
// clusters are never re-pushed. GET /meshes/default/ca shows the rotation meanwhile.
func TestCARotationOverADS(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", append([]byte(rotationMeshBefore+"\n---\n"), exampleYAML(t)...))
	require.Equal(t, http.StatusOK, code, string(body))

	gw := newSotW(t, dialADS(t, cp.addrs.XDS), gatewayNode, tokenFor(t, cp, "default", "gateway-instance-1"))
	fetchAll(t, gw)
	names := []string{"identity_cert:secret:default", "mesh_ca:secret:default"}
	gw.subscribe(resourcev3.SecretType, names...)
	first := sdsPEMs(t, gw, names, wait)
	oldRoots := bundleRoots(t, first)
	require.Len(t, oldRoots, 1)

	code, body = cp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(rotationMeshAfter))
	require.Equal(t, http.StatusOK, code, string(body))

	// 1. The transition bundle, with the old leaf (still valid, verified against it above).
	transition := sdsPEMs(t, gw, names, 5*time.Second)
	assert.Equal(t, first["leaf"], transition["leaf"], "the switch alone must not re-issue")
	roots := bundleRoots(t, transition)
	require.Len(t, roots, 2)
	require.Contains(t, roots, oldRoots[0])

	code, body = cp.call(t, http.MethodGet, "/meshes/default/ca", "", nil)
	require.Equal(t, http.StatusOK, code, string(body))
	var status controlplane.CAStatus
	require.NoError(t, json.Unmarshal(body, &status), string(body))
	assert.Equal(t, "ca-2", status.EnabledBackend)
	require.Len(t, status.Roots, 2)
	assert.Equal(t, "retiring", status.Roots[1].Backend)
	assert.Equal(t, oldRoots[0], status.Roots[1].SHA256)

	// 2. A leaf from the new root, the old root still trusted.
	reissued := sdsPEMs(t, gw, names, 10*time.Second)
	assert.NotEqual(t, first["leaf"], reissued["leaf"])
	assert.ElementsMatch(t, roots, bundleRoots(t, reissued))

	// 3. The old root leaves once no live leaf chains to it.
	final := sdsPEMs(t, gw, names, 10*time.Second)
	assert.Equal(t, reissued["leaf"], final["leaf"])
	finalRoots := bundleRoots(t, final)
	require.Len(t, finalRoots, 1)
	assert.NotEqual(t, oldRoots[0], finalRoots[0])

	assert.Empty(t, gw.held, "rotation must not re-push listeners, routes or clusters")
	code, body = cp.call(t, http.MethodGet, "/meshes/default/ca", "", nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.NoError(t, json.Unmarshal(body, &status))
	assert.True(t, status.Rotation.Complete, string(body))
	assert.Len(t, status.Roots, 1)
}
