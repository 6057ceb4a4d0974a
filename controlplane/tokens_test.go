package controlplane

import (
	"context"
	"errors"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/meshgate/meshgate/ca/tokens"
)

func TestBearerToken(t *testing.T) {
	cases := []struct {
		name string
		md   metadata.MD
		want string
		err  error
	}{
		{"none", nil, "", tokens.ErrMissing},
		{"bearer", metadata.Pairs("authorization", "Bearer abc"), "abc", nil},
		{"scheme case and spaces", metadata.Pairs("authorization", " bearer  abc "), "abc", nil},
		{"no scheme", metadata.Pairs("authorization", "abc"), "", tokens.ErrInvalid},
		{"basic", metadata.Pairs("authorization", "Basic abc"), "", tokens.ErrInvalid},
		{"empty bearer", metadata.Pairs("authorization", "Bearer "), "", tokens.ErrInvalid},
		{"two", metadata.Pairs("authorization", "Bearer a", "authorization", "Bearer a"), "", tokens.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := bearerToken(metadata.NewIncomingContext(context.Background(), c.md))
			assert.Equal(t, c.want, got)
			if c.err == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, c.err)
			}
		})
	}
}

func TestSplitNode(t *testing.T) {
	for id, want := range map[string][2]string{
		"default.gw":     {"default", "gw"},
		"default.gw.eu1": {"default", "gw.eu1"}, // dataplane names may have dots; meshes in tokens may not
	} {
		mesh, name, err := splitNode(id)
		require.NoError(t, err)
		assert.Equal(t, want, [2]string{mesh, name})
	}
	for _, id := range []string{"", "default", ".gw", "default."} {
		_, _, err := splitNode(id)
		assert.ErrorIs(t, err, errBadNode, id)
	}
}

// Each reason maps to one status; a failure to check is Unavailable and says nothing of why.
func TestRefusalStatus(t *testing.T) {
	cases := []struct {
		err    error
		result string
		code   codes.Code
	}{
		{tokens.ErrMissing, "missing", codes.Unauthenticated},
		{tokens.ErrInvalid, "invalid", codes.Unauthenticated},
		{tokens.ErrExpired, "expired", codes.Unauthenticated},
		{tokens.ErrRevoked, "revoked", codes.Unauthenticated},
		{tokens.ErrWrongDataplane, "wrong_dataplane", codes.PermissionDenied},
		{errBadNode, "bad_node", codes.InvalidArgument},
		{errors.New("sqlite: database /secret/path is locked"), "error", codes.Unavailable},
	}
	for _, c := range cases {
		result, err := refusal("default.gw", c.err)
		assert.Equal(t, c.result, result)
		st := status.Convert(err)
		assert.Equal(t, c.code, st.Code(), st.Message())
		assert.NotContains(t, st.Message(), "/secret/path")
	}
}

func TestAuthenticateCountsResults(t *testing.T) {
	results := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x"}, []string{"result"})
	a := &tokenAuth{log: quietLogger(), results: results, verify: func(_ context.Context, token, mesh, name string) (tokens.Info, error) {
		if token == "good" && mesh == "default" && name == "gw" {
			return tokens.Info{Mesh: mesh, Name: name}, nil
		}
		return tokens.Info{}, tokens.ErrInvalid
	}}
	ctx := func(token string) context.Context {
		return metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+token))
	}
	require.NoError(t, a.authenticate(ctx("good"), &corev3.Node{Id: "default.gw"}))
	assert.Equal(t, codes.Unauthenticated, status.Code(a.authenticate(ctx("bad"), &corev3.Node{Id: "default.gw"})))
	assert.Equal(t, codes.Unauthenticated, status.Code(a.authenticate(context.Background(), &corev3.Node{Id: "default.gw"})))
	assert.Equal(t, codes.InvalidArgument, status.Code(a.authenticate(ctx("good"), &corev3.Node{Id: "nodot"})))
	for result, want := range map[string]float64{"ok": 1, "invalid": 1, "missing": 1, "bad_node": 1} {
		assert.Equal(t, want, testutil.ToFloat64(results.WithLabelValues(result)), result)
	}
}

func TestUnknownXDSAuthMode(t *testing.T) {
	cfg := DefaultConfig()
	cfg.XDSAddress, cfg.APIAddress, cfg.DiagAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DNS.Address, cfg.DNS.Forward = "127.0.0.1:0", false
	cfg.DataDir, cfg.Logger, cfg.XDSAuth = t.TempDir(), quietLogger(), "tls"
	_, err := New(context.Background(), cfg)
	require.ErrorContains(t, err, `xDS auth mode "tls": want "token" or "none"`)
}
