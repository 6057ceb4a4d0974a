package servingtls_test

import (
	"context"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca/servingtls"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
)

var loopback = []net.IP{net.ParseIP("127.0.0.1")}

// pemPair is a serving certificate (with chain) and its key as the files hold them.
type pemPair struct {
	cert, key []byte
	leaf      *x509.Certificate
}

func newPair(t *testing.T, ca *certstest.CA, s leafSpec) pemPair {
	t.Helper()
	leaf, key := signServing(t, ca, s)
	chain := []*x509.Certificate{leaf}
	if ca != nil {
		chain = append(chain, ca.Chain()...)
	}
	return pemPair{cert: certs.EncodeCertificates(chain...), key: keyPEM(t, key), leaf: leaf}
}

func newFileSource(t *testing.T, certFile, keyFile string, logs *logBuffer, reg prometheus.Registerer) *servingtls.Source {
	t.Helper()
	s, err := servingtls.New(context.Background(), servingtls.Options{
		CertFile: certFile, KeyFile: keyFile, PollInterval: 20 * time.Millisecond,
		Logger: logs.logger(), Registerer: reg,
	})
	require.NoError(t, err)
	return s
}

func serial(c *x509.Certificate) string { return c.SerialNumber.String() }

// Files replaced in place, then by rename, are served on the next handshake; the server is
// never restarted and the client trusts only the CA.
func TestFileModeReloadsOnChange(t *testing.T) {
	ca := certstest.NewRoot(t, "operator CA")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	p1 := newPair(t, ca, leafSpec{dns: []string{"cp.example.com"}, ips: loopback})
	require.NoError(t, os.WriteFile(certFile, p1.cert, 0o600))
	require.NoError(t, os.WriteFile(keyFile, p1.key, 0o600))

	var logs logBuffer
	reg := prometheus.NewRegistry()
	s := newFileSource(t, certFile, keyFile, &logs, reg)
	assert.Equal(t, string(ca.CertPEM()), string(s.CAPEM()), "the chain after the leaf is what clients trust")
	assert.Equal(t, []string{"cp.example.com", "127.0.0.1"}, s.SANs())
	addr := serveTLS(t, s.ServerConfig())
	cfg := clientConfig(t, s.CAPEM(), "cp.example.com")
	require.Equal(t, serial(p1.leaf), servedSerial(t, addr, cfg))
	runSource(t, s)

	// In place: the key is rewritten, then the certificate.
	p2 := newPair(t, ca, leafSpec{dns: []string{"cp.example.com"}})
	require.NoError(t, os.WriteFile(keyFile, p2.key, 0o600))
	require.NoError(t, os.WriteFile(certFile, p2.cert, 0o600))
	waitFor(t, 5*time.Second, "the rewritten pair", func() bool { return servedSerial(t, addr, cfg) == serial(p2.leaf) })
	assert.Equal(t, []string{"cp.example.com"}, s.SANs())

	// By rename over the old files.
	p3 := newPair(t, ca, leafSpec{dns: []string{"cp.example.com"}})
	writeAtomic(t, certFile, p3.cert)
	writeAtomic(t, keyFile, p3.key)
	waitFor(t, 5*time.Second, "the renamed pair", func() bool { return servedSerial(t, addr, cfg) == serial(p3.leaf) })

	assert.Equal(t, 2.0, updatesValue(t, reg, "ok"))
	assert.Equal(t, 0.0, updatesValue(t, reg, "error"), "a half-written pair is never loaded: %s", logs.String())
	assert.Equal(t, float64(p3.leaf.NotAfter.Unix()), gaugeValue(t, reg))
}

// A Kubernetes secret volume: the files are symlinks through ..data, and an update renames a
// new ..data symlink over the old one and deletes the old directory.
func TestFileModeFollowsKubernetesSecretUpdate(t *testing.T) {
	ca := certstest.NewRoot(t, "operator CA")
	sec := &k8sSecretDir{dir: t.TempDir()}
	p1 := newPair(t, ca, leafSpec{ips: loopback})
	sec.update(t, map[string][]byte{"tls.crt": p1.cert, "tls.key": p1.key})

	var logs logBuffer
	s := newFileSource(t, sec.path("tls.crt"), sec.path("tls.key"), &logs, nil)
	addr := serveTLS(t, s.ServerConfig())
	cfg := clientConfig(t, s.CAPEM(), "127.0.0.1")
	require.Equal(t, serial(p1.leaf), servedSerial(t, addr, cfg))
	runSource(t, s)

	for range 2 {
		next := newPair(t, ca, leafSpec{ips: loopback})
		sec.update(t, map[string][]byte{"tls.crt": next.cert, "tls.key": next.key})
		waitFor(t, 5*time.Second, "the updated secret", func() bool { return servedSerial(t, addr, cfg) == serial(next.leaf) })
	}
	assert.NotContains(t, logs.String(), "rejected")
}

// A bad replacement is reported and the last good pair keeps serving; a good one after it is
// still picked up.
func TestFileModeKeepsLastGoodPair(t *testing.T) {
	ca := certstest.NewRoot(t, "operator CA")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	good := newPair(t, ca, leafSpec{ips: loopback})
	require.NoError(t, os.WriteFile(certFile, good.cert, 0o600))
	require.NoError(t, os.WriteFile(keyFile, good.key, 0o600))

	var logs logBuffer
	reg := prometheus.NewRegistry()
	s := newFileSource(t, certFile, keyFile, &logs, reg)
	addr := serveTLS(t, s.ServerConfig())
	cfg := clientConfig(t, s.CAPEM(), "127.0.0.1")
	runSource(t, s)

	other := newPair(t, ca, leafSpec{ips: loopback})
	expired := newPair(t, ca, leafSpec{ips: loopback, notBefore: time.Now().Add(-2 * time.Hour), notAfter: time.Now().Add(-time.Hour)})
	clientOnly := newPair(t, ca, leafSpec{ips: loopback, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	for i, bad := range []struct {
		name      string
		cert, key []byte
		want      string
	}{
		{"garbage certificate", []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), good.key, certFile},
		{"key of another certificate", good.cert, other.key, "does not hold the private key"},
		{"expired certificate", expired.cert, expired.key, "expired"},
		{"client-only certificate", clientOnly.cert, clientOnly.key, "server authentication"},
	} {
		writeAtomic(t, certFile, bad.cert)
		writeAtomic(t, keyFile, bad.key)
		// The two files are written one after the other, so a poll may first see a mixed pair
		// (rejected for another reason); wait for this pair's own reason.
		waitFor(t, 5*time.Second, bad.name+" rejected", func() bool {
			return updatesValue(t, reg, "error") >= float64(i+1) && strings.Contains(logs.String(), bad.want)
		})
		assert.Equal(t, serial(good.leaf), servedSerial(t, addr, cfg), "%s replaced the good pair", bad.name)
	}
	assert.Contains(t, logs.String(), "the previous certificate keeps serving")

	// Files removed: still serving, and the failure is reported once.
	require.NoError(t, os.Remove(certFile))
	waitFor(t, 5*time.Second, "the read failure reported", func() bool { return strings.Count(logs.String(), "cannot read the certificate files") == 1 })
	time.Sleep(100 * time.Millisecond) // five more polls
	assert.Equal(t, 1, strings.Count(logs.String(), "cannot read the certificate files"))
	assert.Equal(t, serial(good.leaf), servedSerial(t, addr, cfg))

	fixed := newPair(t, ca, leafSpec{ips: loopback})
	writeAtomic(t, keyFile, fixed.key)
	writeAtomic(t, certFile, fixed.cert)
	waitFor(t, 5*time.Second, "the fixed pair", func() bool { return servedSerial(t, addr, cfg) == serial(fixed.leaf) })
}

// At start, every problem is an error that names the file at fault.
func TestFileModeStartErrorsNameTheFile(t *testing.T) {
	ca := certstest.NewRoot(t, "operator CA")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	a := newPair(t, ca, leafSpec{dns: []string{"cp.example.com"}})
	b := newPair(t, ca, leafSpec{dns: []string{"cp.example.com"}})
	certA, keyA, keyB := write("a.crt", a.cert), write("a.key", a.key), write("b.key", b.key)
	expired := newPair(t, ca, leafSpec{notBefore: time.Now().Add(-2 * time.Hour), notAfter: time.Now().Add(-time.Hour)})
	reversed := write("reversed.crt", certs.EncodeCertificates(ca.Cert, a.leaf))
	for _, tc := range []struct {
		name              string
		certFile, keyFile string
		sans              []string
		want              []string
	}{
		{"mismatched key", certA, keyB, nil, []string{keyB, certA, "does not hold the private key"}},
		{"missing cert", filepath.Join(dir, "missing.crt"), keyA, nil, []string{filepath.Join(dir, "missing.crt")}},
		{"missing key", certA, filepath.Join(dir, "missing.key"), nil, []string{filepath.Join(dir, "missing.key")}},
		{"key is not a key", certA, certA, nil, []string{"key file " + certA}},
		{"cert is not a cert", keyA, keyA, nil, []string{"cert file " + keyA}},
		{"expired", write("exp.crt", expired.cert), write("exp.key", expired.key), nil, []string{filepath.Join(dir, "exp.crt"), "expired"}},
		{"CA first", reversed, keyA, nil, []string{reversed}},
		{"required SAN missing", certA, keyA, []string{"other.example.com"}, []string{certA, "other.example.com"}},
	} {
		_, err := servingtls.New(context.Background(), servingtls.Options{CertFile: tc.certFile, KeyFile: tc.keyFile, SANs: tc.sans, Logger: quietLogger()})
		require.Error(t, err, tc.name)
		for _, w := range tc.want {
			assert.Contains(t, err.Error(), w, tc.name)
		}
	}
	s, err := servingtls.New(context.Background(), servingtls.Options{CertFile: certA, KeyFile: keyA, SANs: []string{"cp.example.com"}, Logger: quietLogger()})
	require.NoError(t, err, "a required SAN the certificate covers")
	assert.Equal(t, serial(a.leaf), serial(s.Leaf()))
}

// CAPEM in file mode: the chain after the leaf, else a self-signed leaf itself, else nothing.
func TestFileModeCAPEM(t *testing.T) {
	root := certstest.NewRoot(t, "operator root")
	inter := root.NewIntermediate(t, "operator intermediate")
	dir := t.TempDir()
	load := func(name string, p pemPair) *servingtls.Source {
		certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
		require.NoError(t, os.WriteFile(certFile, p.cert, 0o600))
		require.NoError(t, os.WriteFile(keyFile, p.key, 0o600))
		s, err := servingtls.New(context.Background(), servingtls.Options{CertFile: certFile, KeyFile: keyFile, Logger: quietLogger()})
		require.NoError(t, err)
		return s
	}

	chained := load("chained", newPair(t, inter, leafSpec{ips: loopback}))
	assert.Equal(t, string(inter.ChainPEM()), string(chained.CAPEM()), "intermediate and root")
	_, err := handshake(t, serveTLS(t, chained.ServerConfig()), clientConfig(t, chained.CAPEM(), "127.0.0.1"))
	require.NoError(t, err)

	self := load("self", newPair(t, nil, leafSpec{ips: loopback}))
	assert.Equal(t, string(certs.EncodeCertificates(self.Leaf())), string(self.CAPEM()))
	_, err = handshake(t, serveTLS(t, self.ServerConfig()), clientConfig(t, self.CAPEM(), "127.0.0.1"))
	require.NoError(t, err)

	leafOnly, key := signServing(t, root, leafSpec{ips: loopback})
	bare := load("bare", pemPair{cert: certs.EncodeCertificates(leafOnly), key: keyPEM(t, key)})
	assert.Nil(t, bare.CAPEM(), "a leaf from an issuer not in the file gives clients nothing to trust")
	// Clients that already trust the issuer accept it.
	_, err = handshake(t, serveTLS(t, bare.ServerConfig()), clientConfig(t, root.CertPEM(), "127.0.0.1"))
	require.NoError(t, err)
}
