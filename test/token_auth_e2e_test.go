package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/controlplane"
)

// openAs opens an ADS stream (SotW or delta) with metadata md, sends the first request as
// node, and returns the first thing the server sends back: a response, or the status that
// ended the stream.
type openAs func(t *testing.T, conn *grpc.ClientConn, node string, md metadata.MD) (gotResponse bool, err error)

var adsProtocols = []struct {
	name string
	open openAs
}{
	{"sotw", func(t *testing.T, conn *grpc.ClientConn, node string, md metadata.MD) (bool, error) {
		ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), wait)
		defer cancel()
		stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
		require.NoError(t, err)
		require.NoError(t, stream.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: node}, TypeUrl: resourcev3.ClusterType}))
		resp, err := stream.Recv()
		return resp != nil, err
	}},
	{"delta", func(t *testing.T, conn *grpc.ClientConn, node string, md metadata.MD) (bool, error) {
		ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), wait)
		defer cancel()
		stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
		require.NoError(t, err)
		require.NoError(t, stream.Send(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: node}, TypeUrl: resourcev3.ClusterType}))
		resp, err := stream.Recv()
		return resp != nil, err
	}},
}

func bearer(token string) metadata.MD { return metadata.Pairs("authorization", "Bearer "+token) }

// TestXDSRequiresTheDataplanesToken is the security story of dataplane tokens over real ADS
// streams: every way of presenting the wrong credential is refused with a clear status before
// anything is sent, and the right token gets the dataplane its configuration.
func TestXDSRequiresTheDataplanesToken(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", append(exampleYAML(t), []byte("\n---\n"+otherMeshYAML)...))
	require.Equal(t, http.StatusOK, code, string(body))
	// Issued first, so that it has expired by the time the other cases have run.
	expiring := tokenValidFor(t, cp, "default", "gateway-instance-1", "1s")
	expiresBy := time.Now().Add(2100 * time.Millisecond)

	good := tokenFor(t, cp, "default", "gateway-instance-1")
	revoked := tokenFor(t, cp, "default", "gateway-instance-1")
	info, err := tokens.ParseUnverified(revoked)
	require.NoError(t, err)
	revokeBody, err := json.Marshal(map[string]string{"mesh": "default", "id": info.ID})
	require.NoError(t, err)
	code, body = cp.call(t, http.MethodPost, "/tokens/dataplane/revoke", "application/json", revokeBody)
	require.Equal(t, http.StatusNoContent, code, string(body))

	// A control plane with its own store signs with keys this one has never seen.
	foreign := tokenFor(t, startCP(t, t.TempDir()), "default", "gateway-instance-1")
	// The body of a token for another dataplane under the signature of the good one.
	parts, otherParts := strings.Split(good, "."), strings.Split(tokenFor(t, cp, "default", "intruder"), ".")
	spliced := parts[0] + "." + otherParts[1] + "." + parts[2]

	cases := []struct {
		name string
		md   metadata.MD
		code codes.Code
		msg  string
	}{
		{"no token", metadata.MD{}, codes.Unauthenticated, "no dataplane token"},
		{"not a bearer token", metadata.Pairs("authorization", good), codes.Unauthenticated, `must be "Bearer <token>"`},
		{"two tokens", metadata.Pairs("authorization", "Bearer "+good, "authorization", "Bearer "+good), codes.Unauthenticated, "send exactly one"},
		{"garbage", bearer("not.a.token"), codes.Unauthenticated, "malformed"},
		{"bad signature", bearer(spliced), codes.Unauthenticated, "signature does not verify"},
		{"another control plane's key", bearer(foreign), codes.Unauthenticated, "not a signing key of mesh \"default\""},
		{"another dataplane", bearer(tokenFor(t, cp, "default", "intruder")), codes.PermissionDenied, "the token is for dataplane default/intruder, not default/gateway-instance-1"},
		{"another mesh", bearer(tokenFor(t, cp, "other", "gateway-other")), codes.PermissionDenied, "the token is for dataplane other/gateway-other, not default/gateway-instance-1"},
		{"same name in another mesh", bearer(tokenFor(t, cp, "other", "gateway-instance-1")), codes.PermissionDenied, "the token is for dataplane other/gateway-instance-1"},
		{"revoked", bearer(revoked), codes.Unauthenticated, "revoked"},
		{"expired", bearer(expiring), codes.Unauthenticated, "dataplane token expired"},
	}
	conn := dialADS(t, cp.addrs.XDS)
	for _, p := range adsProtocols {
		for _, tc := range cases {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				if tc.name == "expired" {
					time.Sleep(time.Until(expiresBy))
				}
				gotResponse, err := p.open(t, conn, gatewayNode, tc.md)
				require.False(t, gotResponse, "a refused stream must receive nothing")
				st := status.Convert(err)
				assert.Equal(t, tc.code, st.Code(), st.Message())
				assert.Contains(t, st.Message(), tc.msg)
				assert.Contains(t, st.Message(), `node "default.gateway-instance-1"`)
			})
		}
		t.Run(p.name+"/valid token", func(t *testing.T) {
			gotResponse, err := p.open(t, conn, gatewayNode, bearer(good))
			require.NoError(t, err)
			require.True(t, gotResponse)
		})
	}

	// The other mesh's gateway, with its own token, is served too.
	other := newSotW(t, conn, otherNode, tokenFor(t, cp, "other", "gateway-other"))
	other.subscribe(resourcev3.ListenerType)
	assert.Equal(t, []string{"other-gateway:HTTP:9090"}, resourceNames(t, other.next(resourcev3.ListenerType, wait)))

	// Refusals are counted by reason, for alerting on probing.
	resp, err := http.Get("http://" + cp.addrs.Diag + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	metrics, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, line := range []string{
		`meshgate_xds_auth_total{result="missing"} 2`,
		`meshgate_xds_auth_total{result="wrong_dataplane"} 6`,
		`meshgate_xds_auth_total{result="revoked"} 2`,
		`meshgate_xds_auth_total{result="expired"} 2`,
		`meshgate_xds_auth_total{result="ok"} 3`,
	} {
		assert.Contains(t, string(metrics), line)
	}
}

// syncBuffer is a log destination tests can read while the control plane writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// --xds-auth none admits a stream without a token, and says loudly that it does.
func TestXDSAuthNone(t *testing.T) {
	var logs syncBuffer
	cp := startCP(t, t.TempDir(), func(c *controlplane.Config) {
		c.XDSAuth = controlplane.XDSAuthNone
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	assert.Contains(t, logs.String(), "level=WARN")
	assert.Contains(t, logs.String(), "xDS AUTHENTICATION IS OFF")
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", exampleYAML(t))
	require.Equal(t, http.StatusOK, code, string(body))
	gw := newSotW(t, dialADS(t, cp.addrs.XDS), gatewayNode, "")
	fetchAll(t, gw)
}

// The token endpoints sit behind the admin token like the rest of the API.
func TestTokenAPINeedsTheAdminToken(t *testing.T) {
	cp := startCP(t, t.TempDir(), func(c *controlplane.Config) { c.AdminToken = "s3cret" })
	post := func(path, admin string, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, "http://"+cp.addrs.API+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if admin != "" {
			req.Header.Set("Authorization", "Bearer "+admin)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(out)
	}
	issue := `{"mesh":"default","name":"gw"}`
	revoke := `{"mesh":"default","id":"abc"}`
	for _, path := range []string{"/tokens/dataplane", "/tokens/dataplane/revoke"} {
		code, out := post(path, "", issue)
		assert.Equal(t, http.StatusUnauthorized, code, out)
		code, out = post(path, "wrong", issue)
		assert.Equal(t, http.StatusUnauthorized, code, out)
	}
	code, tok := post("/tokens/dataplane", "s3cret", issue)
	require.Equal(t, http.StatusOK, code, tok)
	info, err := tokens.ParseUnverified(tok)
	require.NoError(t, err)
	assert.Equal(t, "gw", info.Name)
	code, out := post("/tokens/dataplane/revoke", "s3cret", revoke)
	assert.Equal(t, http.StatusNoContent, code, out)
}
