package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/controlplane"
)

// The CLI reaches the HTTPS API with the control plane's CA: `meshgate ca control-plane` prints
// it (over the loopback API), and `--ca-file` (or MESHGATE_CA_FILE) makes the CLI trust it.
// Without it the system's roots do not know the control plane, so the CLI refuses to talk.
func TestCLIOverHTTPSWithCAFile(t *testing.T) {
	const adminToken = "9c4e1a7f3b5d2086ce13a9f7b5d24068"
	cfg := controlplane.DefaultConfig()
	cfg.XDSAddress, cfg.APIAddress, cfg.DiagAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.APITLSAddress = "127.0.0.1:0"
	cfg.DNS.Address, cfg.DNS.Forward = "127.0.0.1:0", false
	cfg.DataDir, cfg.AdminToken = t.TempDir(), adminToken
	cfg.Logger, _ = newLogger(&strings.Builder{}, "text", "error")
	ctx, cancel := context.WithCancel(context.Background())
	cp, err := controlplane.New(ctx, cfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- cp.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	select {
	case <-cp.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("control plane not ready")
	}
	addrs := cp.Addrs()
	require.NotEmpty(t, addrs.APITLS)
	t.Setenv(envAdminToken, adminToken)

	caPEM, stderr, code := runCLI(t, "ca", "control-plane", "--api-address", "http://"+addrs.API)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, caPEM, "BEGIN CERTIFICATE")
	caFile := filepath.Join(t.TempDir(), "cp-ca.pem")
	require.NoError(t, os.WriteFile(caFile, []byte(caPEM), 0o644))

	https := "https://" + addrs.APITLS
	out, stderr, code := runCLI(t, "apply", "-f", example, "--api-address", https, "--ca-file", caFile)
	require.Equal(t, 0, code, stderr)
	out, stderr, code = runCLI(t, "get", "meshgatewayroutes", "--mesh", "default", "--api-address", https, "--ca-file", caFile)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "api-route")

	t.Setenv(envCAFile, caFile)
	_, stderr, code = runCLI(t, "get", "meshgatewayroutes", "--mesh", "default", "--api-address", https)
	require.Equal(t, 0, code, stderr)

	t.Setenv(envCAFile, "")
	_, stderr, code = runCLI(t, "get", "meshgatewayroutes", "--mesh", "default", "--api-address", https)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "certificate signed by unknown authority")

	_, stderr, code = runCLI(t, "get", "meshgatewayroutes", "--mesh", "default", "--api-address", https, "--ca-file", filepath.Join(t.TempDir(), "missing.pem"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "--ca-file")
}
