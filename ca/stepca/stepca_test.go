package stepca

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/keyutil"
	"go.step.sm/crypto/x509util"
)

// testConfig is the step-ca that .ci/stepca.sh started. Missing it is a failure, not a skip:
// a CI that forgot to start it must not go green without ever talking to a real step-ca.
func testConfig(t *testing.T) Config {
	t.Helper()
	vars := []string{
		"MESHGATE_TEST_STEPCA_URL", "MESHGATE_TEST_STEPCA_FINGERPRINT",
		"MESHGATE_TEST_STEPCA_PROVISIONER", "MESHGATE_TEST_STEPCA_PASSWORD_FILE",
	}
	var missing []string
	for _, v := range vars {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		if os.Getenv("MESHGATE_SKIP_STEPCA") == "1" {
			t.Skip("MESHGATE_SKIP_STEPCA=1: not testing against a real step-ca")
		}
		t.Fatalf("no step-ca to test against (%s unset): run `eval \"$(.ci/stepca.sh start)\"` first, or set MESHGATE_SKIP_STEPCA=1 to skip these tests", strings.Join(missing, ", "))
	}
	pw, err := os.ReadFile(os.Getenv("MESHGATE_TEST_STEPCA_PASSWORD_FILE"))
	require.NoError(t, err)
	return Config{
		URL:                 os.Getenv("MESHGATE_TEST_STEPCA_URL"),
		RootFingerprint:     os.Getenv("MESHGATE_TEST_STEPCA_FINGERPRINT"),
		Provisioner:         os.Getenv("MESHGATE_TEST_STEPCA_PROVISIONER"),
		ProvisionerPassword: bytes.TrimRightFunc(pw, unicode.IsSpace),
	}
}

func newBackend(t *testing.T) *Backend {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := New(ctx, testConfig(t))
	require.NoError(t, err)
	return b
}

func spiffeTemplate(t *testing.T, ids ...string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{}
	for _, id := range ids {
		u, err := url.Parse(id)
		require.NoError(t, err)
		tmpl.URIs = append(tmpl.URIs, u)
	}
	return tmpl
}

func newKey(t *testing.T) *SignRequest {
	t.Helper()
	key, err := keyutil.GenerateSigner("EC", "P-256", 0)
	require.NoError(t, err)
	return &SignRequest{Signer: key}
}

func sign(t *testing.T, b *Backend, req *SignRequest) []*x509.Certificate {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	chain, err := b.Sign(ctx, *req)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(chain), 2, "leaf and step-ca's intermediate")
	return chain
}

func TestNewFetchesPinnedRoot(t *testing.T) {
	cfg := testConfig(t)
	b := newBackend(t)
	roots := b.Roots()
	require.NotEmpty(t, roots)
	var fps []string
	for _, r := range roots {
		assert.True(t, r.IsCA)
		fps = append(fps, fingerprintOf(r))
	}
	assert.Contains(t, fps, cfg.RootFingerprint)
	assert.Equal(t, 48*time.Hour, b.MaxLifetime(), "the claim .ci/stepca.sh sets on the provisioner")
}

func TestSignSPIFFELeafVerifiesWithGoSPIFFEAndOpenSSL(t *testing.T) {
	b := newBackend(t)
	req := newKey(t)
	req.Template = spiffeTemplate(t, "spiffe://default/web")
	req.Lifetime = time.Hour
	chain := sign(t, b, req)

	leaf := chain[0]
	require.Len(t, leaf.URIs, 1)
	assert.Equal(t, "spiffe://default/web", leaf.URIs[0].String())
	assert.False(t, leaf.IsCA)

	td := spiffeid.RequireTrustDomainFromString("default")
	id, _, err := x509svid.Verify(chain, x509bundle.FromX509Authorities(td, b.Roots()))
	require.NoError(t, err)
	assert.Equal(t, "spiffe://default/web", id.String())

	opensslVerify(t, b.Roots(), chain)
}

// Kuma adds kuma://<tag>/<value> URIs next to the SPIFFE ID; step-ca must keep them too.
// (go-spiffe's x509svid.Verify refuses a leaf with more than one URI SAN, so only openssl
// and crypto/x509 check this chain.)
func TestSignKeepsAllURISANs(t *testing.T) {
	b := newBackend(t)
	req := newKey(t)
	req.Template = spiffeTemplate(t, "spiffe://default/web", "kuma://kuma.io/service/web", "kuma://version/v1")
	chain := sign(t, b, req)

	var got []string
	for _, u := range chain[0].URIs {
		got = append(got, u.String())
	}
	assert.ElementsMatch(t, []string{"spiffe://default/web", "kuma://kuma.io/service/web", "kuma://version/v1"}, got)
	opensslVerify(t, b.Roots(), chain)
}

func TestSignWithCallerCSR(t *testing.T) {
	b := newBackend(t)
	key, err := keyutil.GenerateSigner("EC", "P-256", 0)
	require.NoError(t, err)
	csr, err := x509util.CreateCertificateRequest("", []string{"spiffe://default/api"}, key)
	require.NoError(t, err)
	chain := sign(t, b, &SignRequest{CSR: csr})
	assert.Equal(t, "spiffe://default/api", chain[0].URIs[0].String())
}

func TestSignLifetime(t *testing.T) {
	b := newBackend(t)
	for _, tc := range []struct {
		name      string
		requested time.Duration
		want      time.Duration
	}{
		{"honoured", time.Hour, time.Hour},
		{"zero takes the provisioner default", 0, 24 * time.Hour},
		{"capped at the provisioner maximum", 72 * time.Hour, 48 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := newKey(t)
			req.Template = spiffeTemplate(t, "spiffe://default/web")
			req.Lifetime = tc.requested
			before := time.Now()
			leaf := sign(t, b, req)[0]
			after := time.Now()
			// step-ca counts the lifetime from the moment it signs, then backdates NotBefore.
			assert.WithinRange(t, leaf.NotAfter, before.Add(tc.want).Add(-2*time.Second), after.Add(tc.want).Add(2*time.Second))
			assert.True(t, leaf.NotBefore.Before(before), "NotBefore backdated")
		})
	}
}

// A lifetime under the provisioner's minimum (5 m by default) is a policy step-ca enforces;
// its refusal must reach the caller with the URL and step-ca's reason.
func TestSignRefusedByStepCA(t *testing.T) {
	cfg := testConfig(t)
	b := newBackend(t)
	req := newKey(t)
	req.Template = spiffeTemplate(t, "spiffe://default/web")
	req.Lifetime = time.Minute
	_, err := b.Sign(context.Background(), *req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), cfg.URL)
	assert.Contains(t, err.Error(), "minimum")
}

func TestNewWithRootPEMInsteadOfFingerprint(t *testing.T) {
	cfg := testConfig(t)
	var rootPEM []byte
	for _, r := range newBackend(t).Roots() {
		rootPEM = append(rootPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Raw})...)
	}
	cfg.RootFingerprint = ""
	cfg.RootPEM = rootPEM
	b, err := New(context.Background(), cfg)
	require.NoError(t, err)
	req := newKey(t)
	req.Template = spiffeTemplate(t, "spiffe://default/web")
	sign(t, b, req)
}

func TestNewErrors(t *testing.T) {
	good := testConfig(t)
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		wants []string
	}{
		{"wrong provisioner password", func(c *Config) { c.ProvisionerPassword = []byte("not-the-password") }, []string{"invalid password", good.Provisioner}},
		{"unknown provisioner", func(c *Config) { c.Provisioner = "nope" }, []string{`provisioner "nope"`, "not found", good.Provisioner}},
		{"wrong fingerprint", func(c *Config) { c.RootFingerprint = strings.Repeat("ab", 32) }, []string{"fingerprint " + strings.Repeat("ab", 32)}},
		{"unreachable", func(c *Config) { c.URL = "https://" + closedAddr(t) }, []string{"connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := New(ctx, cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "stepca "+cfg.URL+":")
			for _, w := range tc.wants {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// A CA that accepts connections and never answers must not hang New past its context.
func TestNewHonoursContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	cfg := Config{
		URL:                 "https://" + ln.Addr().String(),
		RootFingerprint:     strings.Repeat("ab", 32),
		Provisioner:         "meshgate",
		ProvisionerPassword: []byte("x"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = New(ctx, cfg)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, err.Error(), cfg.URL)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// opensslVerify checks the chain with a verifier that shares no code with Go's.
func opensslVerify(t *testing.T, roots, chain []*x509.Certificate) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is needed to cross-check chains: %v", err)
	}
	dir := t.TempDir()
	write := func(name string, certs []*x509.Certificate) string {
		var buf bytes.Buffer
		for _, c := range certs {
			require.NoError(t, pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
		}
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o600))
		return p
	}
	rootFile, interFile, leafFile := write("root.pem", roots), write("inter.pem", chain[1:]), write("leaf.pem", chain[:1])
	out, err := exec.Command("openssl", "verify", "-CAfile", rootFile, "-untrusted", interFile, leafFile).CombinedOutput()
	require.NoError(t, err, "openssl verify: %s", out)
	assert.Equal(t, leafFile+": OK", strings.TrimSpace(string(out)))
}

// The CA manager renews many dataplanes at once through one Backend.
func TestSignConcurrently(t *testing.T) {
	b := newBackend(t)
	errs := make(chan error, 8)
	for i := range 8 {
		// Built here: require must not fail a test from another goroutine.
		req := newKey(t)
		req.Template = spiffeTemplate(t, "spiffe://default/svc-"+strconv.Itoa(i))
		go func() {
			_, err := b.Sign(context.Background(), *req)
			errs <- err
		}()
	}
	for range 8 {
		assert.NoError(t, <-errs)
	}
}
