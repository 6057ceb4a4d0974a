package bootstrap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/xds"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/xds/names"
)

func proxylessDataplane() *api.Dataplane {
	return &api.Dataplane{
		Meta: api.Meta{Kind: api.KindDataplane, Mesh: "payments", Name: "ledger-1", Labels: map[string]string{api.ProxyTypeLabel: api.ProxyTypeProxyless}},
		Spec: api.DataplaneSpec{Networking: api.Networking{Address: "127.0.0.1",
			Inbound: []api.Inbound{{Port: 9090, Tags: map[string]string{api.ServiceTag: "ledger"}}}}},
	}
}

// TestProxylessBootstrapParsesInGRPC hands the bootstrap to gRPC-Go's own parser, as its xDS
// server reads it (which refuses a bad certificate provider config or a missing server listener
// template), and reads back what meshgate's side depends on.
func TestProxylessBootstrapParsesInGRPC(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "cp-ca.pem")
	require.NoError(t, os.WriteFile(ca, certs.EncodeCertificates(certstest.NewRoot(t, "cp-ca").Root()), 0o644))
	token := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(token, []byte("x.y.z"), 0o600))
	raw, err := Proxyless(ProxylessRequest{
		Dataplane: proxylessDataplane(), ControlPlane: "grpc://127.0.0.1:5678", Replicas: []string{"cp-2.internal:5678"},
		TokenFile: token, ControlPlaneCAFile: ca, CertDir: dir,
	})
	require.NoError(t, err)
	grpcAccepts(t, raw)

	var b grpcBootstrap
	require.NoError(t, json.Unmarshal(raw, &b))
	assert.Equal(t, "payments.ledger-1", b.Node.ID)
	assert.Equal(t, names.ProxylessServerListenerTemplate, b.ServerListenerTemplate)
	require.Len(t, b.XDSServers, 2)
	assert.Equal(t, "127.0.0.1:5678", b.XDSServers[0].URI)
	assert.Equal(t, "cp-2.internal:5678", b.XDSServers[1].URI)
	for _, s := range b.XDSServers {
		assert.Equal(t, []credsConfig{{Type: "tls", Config: map[string]string{"ca_certificate_file": ca}}}, s.ChannelCreds)
		assert.Equal(t, []credsConfig{{Type: "jwt_token_file", Config: map[string]string{"jwt_token_file": token}}}, s.CallCreds)
	}
	id := b.CertificateProviders[names.ProxylessIdentityProvider]
	assert.Equal(t, "file_watcher", id.Plugin)
	assert.Equal(t, filepath.Join(dir, SVIDFile), id.Config["certificate_file"])
	assert.Equal(t, filepath.Join(dir, SVIDKeyFile), id.Config["private_key_file"])
	trust := b.CertificateProviders[names.ProxylessTrustProvider]
	assert.Equal(t, filepath.Join(dir, BundleFile), trust.Config["ca_certificate_file"])
	assert.Equal(t, filepath.Join(dir, SPIFFEBundleMapFile), trust.Config["spiffe_trust_bundle_map_file"])
	assert.Equal(t, "10s", trust.Config["refresh_interval"])
}

// grpcAccepts builds a gRPC xDS server from the bootstrap; it connects to nothing until Serve.
func grpcAccepts(t *testing.T, raw []byte) {
	t.Helper()
	s, err := xds.NewGRPCServer(grpc.Creds(insecure.NewCredentials()), xds.BootstrapContentsForTesting(raw))
	require.NoError(t, err, "gRPC refuses the bootstrap:\n%s", raw)
	s.Stop()
}

func TestProxylessBootstrapRefuses(t *testing.T) {
	envoy := proxylessDataplane()
	envoy.Labels = nil
	cases := map[string]struct {
		req  ProxylessRequest
		want string
	}{
		"an Envoy dataplane":    {ProxylessRequest{Dataplane: envoy, ControlPlane: "127.0.0.1:5678", ControlPlaneCAFile: "/ca.pem", CertDir: "/certs"}, "not labelled meshgate.io/proxy-type: proxyless"},
		"a relative cert dir":   {ProxylessRequest{Dataplane: proxylessDataplane(), ControlPlane: "127.0.0.1:5678", ControlPlaneCAFile: "/ca.pem", CertDir: "certs"}, "must be an absolute path"},
		"a token in plain text": {ProxylessRequest{Dataplane: proxylessDataplane(), ControlPlane: "127.0.0.1:5678", Insecure: true, TokenFile: "/token", CertDir: "/certs"}, "only over TLS"},
		"TLS without a CA":      {ProxylessRequest{Dataplane: proxylessDataplane(), ControlPlane: "127.0.0.1:5678", CertDir: "/certs"}, "no control-plane CA"},
		"a bad address":         {ProxylessRequest{Dataplane: proxylessDataplane(), ControlPlane: "http://x:1", ControlPlaneCAFile: "/ca.pem", CertDir: "/certs"}, "scheme must be grpc"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Proxyless(c.req)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), "Dataplane payments/ledger-1")
		})
	}
}

func TestProxylessBootstrapInsecure(t *testing.T) {
	raw, err := Proxyless(ProxylessRequest{Dataplane: proxylessDataplane(), ControlPlane: "127.0.0.1:5678", Insecure: true, CertDir: "/certs"})
	require.NoError(t, err)
	grpcAccepts(t, raw)
	var b grpcBootstrap
	require.NoError(t, json.Unmarshal(raw, &b))
	assert.Equal(t, []credsConfig{{Type: "insecure"}}, b.XDSServers[0].ChannelCreds)
	assert.Empty(t, b.XDSServers[0].CallCreds)
}
