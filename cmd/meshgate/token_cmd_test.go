package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/controlplane"
)

// startControlPlane runs a whole control plane (the token endpoints live beside the resource
// API) and points the CLI at it through the environment.
func startControlPlane(t *testing.T) {
	t.Helper()
	cfg := controlplane.DefaultConfig()
	cfg.XDSAddress, cfg.APIAddress, cfg.DiagAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DNS.Address, cfg.DNS.Forward = "127.0.0.1:0", false
	cfg.DataDir, cfg.AdminToken = t.TempDir(), testToken
	cfg.APITLSAddress = "127.0.0.1:0"
	cfg.Logger, _ = newLogger(&strings.Builder{}, "text", "error")
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := controlplane.New(ctx, cfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- cp.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case <-cp.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("control plane not ready")
	}
	t.Setenv(envAPIAddress, "http://"+cp.Addrs().API)
	t.Setenv(envAdminToken, testToken)
}

func TestTokenDataplane(t *testing.T) {
	startControlPlane(t)
	out, stderr, code := runCLI(t, "token", "dataplane", "--mesh", "default", "--name", "gateway-instance-1", "--valid-for", "24h")
	require.Equal(t, 0, code, stderr)
	require.True(t, strings.HasSuffix(out, "\n"))
	info, err := tokens.ParseUnverified(strings.TrimSpace(out))
	require.NoError(t, err)
	assert.Equal(t, "default", info.Mesh)
	assert.Equal(t, "gateway-instance-1", info.Name)
	assert.Equal(t, 24*time.Hour, info.ExpiresAt.Sub(info.IssuedAt))

	out, stderr, code = runCLI(t, "token", "dataplane", "--mesh", "default", "--name", "gw")
	require.Equal(t, 0, code, stderr)
	info, err = tokens.ParseUnverified(strings.TrimSpace(out))
	require.NoError(t, err)
	assert.Equal(t, tokens.DefaultValidFor, info.ExpiresAt.Sub(info.IssuedAt))

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"token", "dataplane", "--name", "gw"}, `required flag(s) "mesh" not set`},
		{[]string{"token", "dataplane", "--mesh", "a.b", "--name", "gw"}, "error: bad token request: mesh \"a.b\""},
		{[]string{"token", "dataplane", "--mesh", "default", "--name", "gw", "--valid-for", "200000h"}, "out of range"},
		{[]string{"token", "dataplane", "--mesh", "default", "--name", "gw", "--admin-token", "wrong"}, "a valid admin token is required"},
	}
	for _, c := range cases {
		_, stderr, code := runCLI(t, c.args...)
		assert.Equal(t, 1, code, c.args)
		assert.Contains(t, stderr, c.want)
	}
}

func TestTokenRevoke(t *testing.T) {
	startControlPlane(t)
	tok, stderr, code := runCLI(t, "token", "dataplane", "--mesh", "default", "--name", "gw")
	require.Equal(t, 0, code, stderr)
	info, err := tokens.ParseUnverified(strings.TrimSpace(tok))
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte(tok), 0o600))

	out, stderr, code := runCLI(t, "token", "revoke", "--token-file", file)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "revoked dataplane token "+info.ID+" in mesh default\n", out)
	out, stderr, code = runCLI(t, "token", "revoke", "--mesh", "default", "--id", info.ID)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "revoked dataplane token "+info.ID+" in mesh default\n", out)

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"token", "revoke"}, "name the token"},
		{[]string{"token", "revoke", "--mesh", "default"}, "name the token"},
		{[]string{"token", "revoke", "--token-file", file, "--id", "x"}, "not both"},
		{[]string{"token", "revoke", "--token-file", file, "--mesh", "other"}, `token of mesh "default", not "other"`},
		{[]string{"token", "revoke", "--mesh", "a.b", "--id", "x"}, "no '.'"},
	}
	for _, c := range cases {
		_, stderr, code := runCLI(t, c.args...)
		assert.Equal(t, 1, code, c.args)
		assert.Contains(t, stderr, c.want)
	}
}

// bootstrap --dataplane-token-file puts the token where Envoy sends it from: the xDS gRPC
// service's initial metadata.
func TestBootstrapWithToken(t *testing.T) {
	startControlPlane(t)
	dir := t.TempDir()
	issue := func(name string) string {
		tok, stderr, code := runCLI(t, "token", "dataplane", "--mesh", "default", "--name", name)
		require.Equal(t, 0, code, stderr)
		file := filepath.Join(dir, name+".token")
		require.NoError(t, os.WriteFile(file, []byte(tok), 0o600))
		return file
	}
	own, other := issue("gateway-instance-1"), issue("other")
	raw, err := os.ReadFile(own)
	require.NoError(t, err)
	token := strings.TrimSpace(string(raw))

	outFile := filepath.Join(dir, "bootstrap.json")
	require.NoError(t, os.WriteFile(outFile, nil, 0o644)) // an existing, world-readable file
	_, stderr, code := runCLI(t, "bootstrap", "--dataplane-file", example+"/gateway.yaml", "--dataplane-token-file", own, "--format", "json", "-o", outFile)
	require.Equal(t, 0, code, stderr)
	st, err := os.Stat(outFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "a bootstrap holding a token is secret")
	data, err := os.ReadFile(outFile)
	require.NoError(t, err)
	var b struct {
		DynamicResources struct {
			AdsConfig struct {
				GrpcServices []struct {
					InitialMetadata []struct{ Key, Value string } `json:"initialMetadata"`
				} `json:"grpcServices"`
			} `json:"adsConfig"`
		} `json:"dynamicResources"`
	}
	require.NoError(t, json.Unmarshal(data, &b))
	require.Len(t, b.DynamicResources.AdsConfig.GrpcServices, 1)
	assert.Equal(t, []struct{ Key, Value string }{{"authorization", "Bearer " + token}},
		b.DynamicResources.AdsConfig.GrpcServices[0].InitialMetadata)

	// Without a token file the bootstrap has no metadata, as before.
	out, stderr, code := runCLI(t, "bootstrap", "--dataplane-file", example+"/gateway.yaml")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, out, "initialMetadata")

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	garbage := filepath.Join(dir, "garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("not a token"), 0o600))
	cases := []struct{ file, want string }{
		{other, "holds a token for dataplane default/other, not default/gateway-instance-1"},
		{empty, "is empty"},
		{garbage, "invalid dataplane token"},
		{filepath.Join(dir, "missing"), "no such file"},
	}
	for _, c := range cases {
		_, stderr, code := runCLI(t, "bootstrap", "--dataplane-file", example+"/gateway.yaml", "--dataplane-token-file", c.file)
		assert.Equal(t, 1, code, c.file)
		assert.Contains(t, stderr, c.want)
	}
}

func TestTokenHelpNeverShowsTheAdminToken(t *testing.T) {
	t.Setenv(envAdminToken, testToken)
	for _, sub := range []string{"dataplane", "revoke"} {
		out, _, code := runCLI(t, "token", sub, "--help")
		require.Equal(t, 0, code)
		assert.Contains(t, out, "--admin-token")
		assert.NotContains(t, out, testToken)
	}
}
