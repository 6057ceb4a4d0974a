package ca_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/certs/certstest"
)

// Two meshes whose provided backends hold one root (here: the same file, and the same root
// under an intermediate given inline) are reported together, whatever form the certificate
// takes; a root that one mesh lists twice, or builtin backends, or meshes without mTLS are not.
func TestSharedProvidedRoots(t *testing.T) {
	ctx := context.Background()
	shared := certstest.NewRoot(t, "company root")
	inter := shared.NewIntermediate(t, "team intermediate")
	own := certstest.NewRoot(t, "own root")
	dir := t.TempDir()
	sharedFile := filepath.Join(dir, "company.pem")
	require.NoError(t, os.WriteFile(sharedFile, shared.CertPEM(), 0o600))
	key := inlineString(shared.KeyPEM(t))

	twoBackends := meshWith("a", provided("ca-1", map[string]any{"file": sharedFile}, key))
	twoBackends.Spec.MTLS.Backends = append(twoBackends.Spec.MTLS.Backends,
		provided("ca-2", map[string]any{"secret": "company-chain"}, key))
	noMTLS := meshWith("off", provided("ca-1", map[string]any{"file": sharedFile}, key))
	noMTLS.Spec.MTLS.EnabledBackend = ""
	meshes := []*api.Mesh{
		meshWith("c", provided("team", inlineString(inter.ChainPEM()), inlineString(inter.KeyPEM(t)))),
		twoBackends,
		meshWith("b", provided("ca-1", map[string]any{"file": sharedFile}, key)),
		meshWith("own", provided("ca-1", inlineString(own.CertPEM()), inlineString(own.KeyPEM(t)))),
		meshWith("builtin", builtin("ca-1", nil)),
		meshWith("unreadable", provided("ca-1", map[string]any{"file": filepath.Join(dir, "missing.pem")}, key)),
		noMTLS,
	}
	secrets := func(_ context.Context, mesh, name string) ([]byte, error) {
		if mesh == "a" && name == "company-chain" {
			return shared.CertPEM(), nil
		}
		return nil, errors.New("no such secret")
	}

	got := ca.SharedRoots(ca.ProvidedRoots(ctx, meshes, secrets))
	require.Len(t, got, 1)
	assert.True(t, got[0].Root.Equal(shared.Cert))
	var uses []string
	for _, u := range got[0].Uses {
		uses = append(uses, u.Mesh.Name+"/"+u.Backend+"@"+u.Field())
	}
	assert.Equal(t, []string{
		"a/ca-1@mtls.backends[0].conf.cert", "a/ca-2@mtls.backends[1].conf.cert",
		"b/ca-1@mtls.backends[0].conf.cert", "c/team@mtls.backends[0].conf.cert",
	}, uses)

	w := got[0].Warning(false)
	assert.Equal(t, `Mesh a: mtls.backends[0].conf.cert: provided backend "ca-1" trusts the same root CA as `+
		`Mesh a backend "ca-2" and Mesh b backend "ca-1" and Mesh c backend "team": "CN=company root,O=meshgate test" (sha256 `+
		ca.Fingerprint(shared.Cert)+`); a certificate from either mesh's CA is trusted by the other, so give each mesh its own root`, w)

	// One mesh, two backends on one root (a rotation that keeps the root): nothing to say.
	assert.Empty(t, ca.SharedRoots(ca.ProvidedRoots(ctx, []*api.Mesh{twoBackends}, secrets)))
}

// With locate, the warning starts at the first use's file and line, and names the others'.
func TestSharedRootWarningLocated(t *testing.T) {
	shared := certstest.NewRoot(t, "company root")
	doc := "type: Mesh\nname: %s\nmtls:\n  enabledBackend: ca-1\n  backends:\n  - name: ca-1\n    type: provided\n" +
		"    conf:\n      cert: {inlineString: %q}\n      key: {inlineString: %q}\n"
	var meshes []*api.Mesh
	for i, name := range []string{"a", "b"} {
		objs, errs := api.Decode([]string{"a.yaml", "b.yaml"}[i],
			[]byte(fmt.Sprintf(doc, name, string(shared.CertPEM()), string(shared.KeyPEM(t)))))
		require.Empty(t, errs)
		meshes = append(meshes, objs[0].(*api.Mesh))
	}
	got := ca.SharedRoots(ca.ProvidedRoots(context.Background(), meshes, nil))
	require.Len(t, got, 1)
	w := got[0].Warning(true)
	assert.Contains(t, w, `a.yaml:9: Mesh a: mtls.backends[0].conf.cert: provided backend "ca-1" trusts the same root CA as Mesh b backend "ca-1" (b.yaml:9): `)
}
