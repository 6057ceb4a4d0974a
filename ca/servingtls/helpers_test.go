package servingtls_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/x509util"

	"github.com/meshgate/meshgate/ca/servingtls"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/store/sqlite"
)

func openStore(t testing.TB, dir string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.OpenDir(context.Background(), dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// logBuffer collects a Source's log lines, for tests that check what was reported.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// clock is a settable clock for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// serveTLS runs a TLS server on 127.0.0.1:0 with cfg that completes handshakes and hangs up,
// and returns its address. It stops when the test ends.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				tc := tls.Server(c, cfg)
				_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
				_ = tc.Handshake()
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// handshake connects to addr with cfg and returns the chain the server presented.
func handshake(t *testing.T, addr string, cfg *tls.Config) ([]*x509.Certificate, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates, nil
}

// clientConfig is ClientConfig, required to succeed.
func clientConfig(t *testing.T, caPEM []byte, serverName string) *tls.Config {
	t.Helper()
	cfg, err := servingtls.ClientConfig(caPEM, serverName)
	require.NoError(t, err)
	return cfg
}

// servedSerial handshakes and returns the serving leaf's serial, failing the test on error.
func servedSerial(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	chain, err := handshake(t, addr, cfg)
	require.NoError(t, err)
	return chain[0].SerialNumber.String()
}

// waitFor polls cond every 20 ms until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runSource runs s.Run until the test ends and checks that it returned nil.
func runSource(t *testing.T, s *servingtls.Source) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context was cancelled")
		}
	})
}

// leafSpec describes a file-mode serving certificate for a test.
type leafSpec struct {
	dns       []string
	ips       []net.IP
	notBefore time.Time
	notAfter  time.Time
	eku       []x509.ExtKeyUsage
}

// signServing issues a serving leaf from ca (self-signed when ca is nil) and returns it with
// its key.
func signServing(t *testing.T, ca *certstest.CA, s leafSpec) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	serial, err := certs.NewSerial()
	require.NoError(t, err)
	if s.notBefore.IsZero() {
		s.notBefore = time.Now().Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = time.Now().Add(24 * time.Hour)
	}
	if s.eku == nil {
		s.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "test server"},
		SerialNumber:          serial,
		DNSNames:              s.dns,
		IPAddresses:           s.ips,
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           s.eku,
		BasicConstraintsValid: true,
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.Cert, ca.Key
	}
	cert, err := x509util.CreateCertificate(tmpl, parent, key.Public(), signer)
	require.NoError(t, err)
	return cert, key
}

func keyPEM(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	b, err := certs.EncodePrivateKey(key)
	require.NoError(t, err)
	return b
}

// writeAtomic replaces path by renaming a temporary file over it, as editors and most
// deployment tools do.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, data, 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// k8sSecretDir lays files out as the kubelet mounts a secret: dir/name -> ..data/name, with
// ..data a symlink to a timestamped directory that an update replaces by renaming a new
// symlink over ..data.
type k8sSecretDir struct {
	dir string
	gen int
}

func (k *k8sSecretDir) path(name string) string { return filepath.Join(k.dir, name) }

func (k *k8sSecretDir) update(t *testing.T, files map[string][]byte) {
	t.Helper()
	k.gen++
	version := "..v" + string(rune('0'+k.gen))
	require.NoError(t, os.Mkdir(filepath.Join(k.dir, version), 0o700))
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(k.dir, version, name), data, 0o600))
	}
	old, _ := os.Readlink(filepath.Join(k.dir, "..data"))
	tmp := filepath.Join(k.dir, "..data_tmp")
	require.NoError(t, os.Symlink(version, tmp))
	require.NoError(t, os.Rename(tmp, filepath.Join(k.dir, "..data")))
	for name := range files {
		link := filepath.Join(k.dir, name)
		if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
			require.NoError(t, os.Symlink(filepath.Join("..data", name), link))
		}
	}
	if old != "" {
		require.NoError(t, os.RemoveAll(filepath.Join(k.dir, old)))
	}
}
