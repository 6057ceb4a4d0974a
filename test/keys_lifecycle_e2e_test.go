package test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/controlplane"
)

// paymentsYAML is an mTLS mesh with one builtin gateway.
const paymentsYAML = `
type: Mesh
name: payments
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
---
type: Dataplane
mesh: payments
name: gw
networking:
  address: 127.0.0.1
  gateway:
    type: BUILTIN
    tags:
      kuma.io/service: payments-gw
---
type: MeshGateway
mesh: payments
name: payments-gw
selectors:
  - match:
      kuma.io/service: payments-gw
conf:
  listeners:
    - port: 8080
      protocol: HTTP
      hostname: pay.example.com
`

const paymentsNode = "payments.gw"

var paymentsSecrets = []string{"identity_cert:secret:payments", "mesh_ca:secret:payments"}

// adsStream is an ADS stream that records why it ended, as Envoy's log would.
type adsStream struct {
	t      *testing.T
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	recv   chan *discoveryv3.DiscoveryResponse
	ended  chan struct{}
	err    error // read after ended
}

func openADS(t *testing.T, conn *grpc.ClientConn, node, token string) *adsStream {
	t.Helper()
	ctx, cancel := context.WithCancel(withToken(context.Background(), token))
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	require.NoError(t, err)
	s := &adsStream{t: t, stream: stream, recv: make(chan *discoveryv3.DiscoveryResponse, 100), ended: make(chan struct{})}
	go func() {
		defer close(s.ended)
		for {
			resp, err := stream.Recv()
			if err != nil {
				s.err = err
				return
			}
			s.recv <- resp
		}
	}()
	require.NoError(t, stream.Send(&discoveryv3.DiscoveryRequest{
		Node: &corev3.Node{Id: node}, TypeUrl: resourcev3.SecretType, ResourceNames: paymentsSecrets}))
	return s
}

// root returns the fingerprint of the root the next SDS response's identity chains to, ACKing
// it; ok is false if the stream ended first.
func (s *adsStream) root(timeout time.Duration) (string, bool) {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case resp := <-s.recv:
			require.NoError(s.t, s.stream.Send(&discoveryv3.DiscoveryRequest{TypeUrl: resp.TypeUrl,
				VersionInfo: resp.VersionInfo, ResponseNonce: resp.Nonce, ResourceNames: paymentsSecrets}))
			if fp := identityRoot(s.t, secretsOf(s.t, resp)); fp != "" {
				return fp, true
			}
		case <-s.ended:
			return "", false
		case <-deadline:
			s.t.Fatalf("no SDS response within %s", timeout)
		}
	}
}

// waitEnd waits for the stream to end and returns its status.
func (s *adsStream) waitEnd(timeout time.Duration) *status.Status {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case <-s.recv: // pushes before the end do not matter here
		case <-s.ended:
			return status.Convert(s.err)
		case <-deadline:
			s.t.Fatalf("stream still open after %s", timeout)
		}
	}
}

// identityRoot is the fingerprint of the bundle root the identity secret chains to.
func identityRoot(t *testing.T, secrets map[string]*tlsv3.Secret) string {
	t.Helper()
	id, bundle := secrets["identity_cert:secret:payments"], secrets["mesh_ca:secret:payments"]
	if id == nil || bundle == nil {
		return ""
	}
	chain, err := certs.ParseCertificates([]byte(id.GetTlsCertificate().GetCertificateChain().GetInlineString()))
	require.NoError(t, err)
	roots, err := certs.ParseCertificates([]byte(bundle.GetValidationContext().GetTrustedCa().GetInlineString()))
	require.NoError(t, err)
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := chain[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	require.NoError(t, err, "the identity must chain to the bundle it comes with")
	return ca.Fingerprint(chains[0][len(chains[0])-1])
}

// servedRoots are the fingerprints of the roots GET /meshes/{mesh}/bundle serves. Between a
// change and the rebuild that follows, it may answer 503: this waits until it serves want.
func servedRoots(t *testing.T, cp *runningCP, mesh string, want ...string) []string {
	t.Helper()
	c, err := client.New("http://"+cp.addrs.API, "")
	require.NoError(t, err)
	var out []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		b, err := c.MeshBundle(context.Background(), mesh)
		out = nil
		if err == nil {
			for _, r := range b.X509Authorities() {
				out = append(out, ca.Fingerprint(r))
			}
		}
		if (err == nil && assert.ObjectsAreEqual(want, out)) || time.Now().After(deadline) {
			require.NoError(t, err)
			return out
		}
	}
}

// firstResponseStatus opens a stream with token and returns how it ended, failing if it got
// anything.
func firstResponseStatus(t *testing.T, conn *grpc.ClientConn, node, token string) *status.Status {
	t.Helper()
	s := openADS(t, conn, node, token)
	select {
	case resp := <-s.recv:
		t.Fatalf("a refused token got a response: %s", resp.TypeUrl)
	case <-s.ended:
	case <-time.After(wait):
		t.Fatal("no verdict on the stream")
	}
	return status.Convert(s.err)
}

func mustCall(t *testing.T, cp *runningCP, method, path, body string, want int) {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/yaml"
	}
	code, out := cp.call(t, method, path, ct, []byte(body))
	require.Equal(t, want, code, "%s %s: %s", method, path, out)
}

// A mesh deleted and created again under the same name, faster than the control plane
// rebuilds (within one debounce), is a new mesh: the first one's token is refused at once, the
// stream it opened is ended, and the new mesh has a new CA whose root the bundle endpoint and
// the new dataplane's identity agree on.
func TestMeshRecreatedRefusesOldTokensAndHasANewCA(t *testing.T) {
	cp := startCP(t, t.TempDir(), func(c *controlplane.Config) { c.Debounce = 2 * time.Second })
	mustCall(t, cp, http.MethodPost, "/apply", paymentsYAML, http.StatusOK)
	conn := dialADS(t, cp.addrs.XDS)
	old := tokenFor(t, cp, "payments", "gw")
	first := openADS(t, conn, paymentsNode, old)
	firstRoot, ok := first.root(10 * time.Second)
	require.True(t, ok, "stream ended: %v", first.err)
	assert.Equal(t, []string{firstRoot}, servedRoots(t, cp, "payments", firstRoot))

	// Delete (the mesh must be empty first) and create again, within one debounce.
	mustCall(t, cp, http.MethodDelete, "/meshes/payments/dataplanes/gw", "", http.StatusOK)
	mustCall(t, cp, http.MethodDelete, "/meshes/payments/meshgateways/payments-gw", "", http.StatusOK)
	mustCall(t, cp, http.MethodDelete, "/meshes/payments", "", http.StatusOK)
	mustCall(t, cp, http.MethodPost, "/apply", paymentsYAML, http.StatusOK)

	// The old token is refused at once, before any rebuild has seen the change.
	st := firstResponseStatus(t, conn, paymentsNode, old)
	assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	assert.Contains(t, st.Message(), `earlier mesh named "payments"`)

	// The stream it opened is ended.
	st = first.waitEnd(10 * time.Second)
	assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())

	// A new token works, and the new mesh's identity chains to a new root, the one the bundle
	// endpoint serves.
	fresh := tokenFor(t, cp, "payments", "gw")
	assert.NotEqual(t, tokenInfo(t, old).KeyID, tokenInfo(t, fresh).KeyID, "a new token signing key")
	second := openADS(t, conn, paymentsNode, fresh)
	var newRoot string
	for deadline := time.Now().Add(15 * time.Second); newRoot == "" || newRoot == firstRoot; {
		require.True(t, time.Now().Before(deadline), "no identity from a new root")
		root, ok := second.root(15 * time.Second)
		require.True(t, ok, "stream ended: %v", second.err)
		newRoot = root
	}
	assert.Equal(t, []string{newRoot}, servedRoots(t, cp, "payments", newRoot))

	// Still refused after the rebuild, which deleted the first mesh's keys.
	st = firstResponseStatus(t, conn, paymentsNode, old)
	assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
}

func tokenInfo(t *testing.T, token string) tokens.Info {
	t.Helper()
	info, err := tokens.ParseUnverified(token)
	require.NoError(t, err)
	return info
}

// Tokens are only issued for meshes that exist: the API answers 404 naming the mesh, and
// `meshgate token dataplane` says so.
func TestTokenForAMissingMesh(t *testing.T) {
	cp := startCP(t, t.TempDir())
	body, err := json.Marshal(map[string]string{"mesh": "nope", "name": "gw"})
	require.NoError(t, err)
	code, out := cp.call(t, http.MethodPost, "/tokens/dataplane", "application/json", body)
	assert.Equal(t, http.StatusNotFound, code, string(out))
	assert.Contains(t, string(out), `mesh \"nope\" does not exist`)

	cmd := exec.Command(buildBinary(t), "token", "dataplane", "--mesh", "nope", "--name", "gw", "--api-address", "http://"+cp.addrs.API)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	require.Error(t, err, "the CLI must fail")
	assert.Empty(t, stdout.String(), "no token printed")
	assert.Contains(t, stderr.String(), `mesh "nope" does not exist`)

	// Once the mesh exists, it works.
	mustCall(t, cp, http.MethodPost, "/apply", paymentsYAML, http.StatusOK)
	tokenFor(t, cp, "payments", "gw")
}

// Revoking a token ends the streams it opened within seconds, with UNAUTHENTICATED: at once on
// the control plane that revoked it, within the revocation cache's TTL on another one sharing
// the store. Reconnecting with it is refused; another token of the same dataplane still works.
func TestRevokeEndsOpenStreams(t *testing.T) {
	dir := t.TempDir()
	a := startCP(t, dir)
	mustCall(t, a, http.MethodPost, "/apply", paymentsYAML, http.StatusOK)
	// b starts after the resources exist: it builds them at start (SQLite's change feed does
	// not cross control planes), and then only polls for revocations.
	b := startCP(t, dir)
	connA, connB := dialADS(t, a.addrs.XDS), dialADS(t, b.addrs.XDS)

	revoked := tokenFor(t, a, "payments", "gw")
	kept := tokenFor(t, a, "payments", "gw")
	onA, onB := openADS(t, connA, paymentsNode, revoked), openADS(t, connB, paymentsNode, revoked)
	keptOnA := openADS(t, connA, paymentsNode, kept)
	for _, s := range []*adsStream{onA, onB, keptOnA} {
		_, ok := s.root(10 * time.Second)
		require.True(t, ok, "stream ended: %v", s.err)
	}

	body, err := json.Marshal(map[string]string{"mesh": "payments", "id": tokenInfo(t, revoked).ID})
	require.NoError(t, err)
	start := time.Now()
	code, out := a.call(t, http.MethodPost, "/tokens/dataplane/revoke", "application/json", body)
	require.Equal(t, http.StatusNoContent, code, string(out))

	st := onA.waitEnd(2 * time.Second)
	assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	assert.Contains(t, st.Message(), "revoked")
	st = onB.waitEnd(tokens.DefaultRevocationTTL + 3*time.Second)
	assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	assert.Contains(t, st.Message(), "revoked")
	t.Logf("ended on the other control plane %s after the revocation", time.Since(start).Round(time.Millisecond))

	for _, conn := range []*grpc.ClientConn{connA, connB} {
		st := firstResponseStatus(t, conn, paymentsNode, revoked)
		assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
		assert.Contains(t, st.Message(), "revoked")
	}
	select {
	case <-keptOnA.ended:
		t.Fatalf("the other token's stream was ended: %v", keptOnA.err)
	default:
	}
	_, ok := openADS(t, connB, paymentsNode, kept).root(10 * time.Second)
	assert.True(t, ok, "another token of the dataplane still connects")
}

// A stream outlives nothing of its token: when the token expires, the stream it opened is
// ended with UNAUTHENTICATED within about a second, and reconnecting with it is refused.
func TestExpiredTokenEndsOpenStream(t *testing.T) {
	cp := startCP(t, t.TempDir())
	mustCall(t, cp, http.MethodPost, "/apply", paymentsYAML, http.StatusOK)
	conn := dialADS(t, cp.addrs.XDS)
	short := tokenValidFor(t, cp, "payments", "gw", "3s")
	s := openADS(t, conn, paymentsNode, short)
	_, ok := s.root(10 * time.Second)
	require.True(t, ok, "the stream was served before its token expired")
	expires := tokenInfo(t, short).ExpiresAt
	st := s.waitEnd(time.Until(expires) + 5*time.Second)
	assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	assert.Contains(t, st.Message(), "expired")
	assert.False(t, time.Now().Before(expires), "not ended before the token expired")
	st = firstResponseStatus(t, conn, paymentsNode, short)
	assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
}
