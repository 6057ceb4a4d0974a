package servingtls_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/ca/servingtls"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
)

func newGenerated(t *testing.T, st servingtls.StateStore, sans ...string) *servingtls.Source {
	t.Helper()
	s, err := servingtls.New(context.Background(), servingtls.Options{Store: st, SANs: sans, Logger: quietLogger()})
	require.NoError(t, err)
	return s
}

// Two control planes on one store (two handles on one SQLite file, as two processes would
// have), started at the same moment, serve different leaves under one CA, and a client that
// trusts only CAPEM accepts both.
func TestReplicasOnOneStoreServeUnderOneCA(t *testing.T) {
	dir := t.TempDir()
	stores := []*servingtlsStore{{openStore(t, dir)}, {openStore(t, dir)}}
	sources := make([]*servingtls.Source, len(stores))
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() {
			sources[i], errs[i] = servingtls.New(context.Background(), servingtls.Options{Store: st, SANs: []string{"127.0.0.1"}, Logger: quietLogger()})
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	a, b := sources[0], sources[1]
	require.Equal(t, string(a.CAPEM()), string(b.CAPEM()), "replicas on one store must share the CA")

	stored, err := servingtls.LoadCAPEM(context.Background(), stores[0])
	require.NoError(t, err)
	require.Equal(t, string(a.CAPEM()), string(stored))

	caCerts, err := certs.ParseCertificates(a.CAPEM())
	require.NoError(t, err)
	require.Len(t, caCerts, 1)
	var serials []string
	for _, src := range sources {
		addr := serveTLS(t, src.ServerConfig())
		// Trust only what the other replica says the CA is.
		chain, err := handshake(t, addr, clientConfig(t, b.CAPEM(), "127.0.0.1"))
		require.NoError(t, err)
		require.NoError(t, chain[0].CheckSignatureFrom(caCerts[0]))
		serials = append(serials, chain[0].SerialNumber.String())
	}
	assert.NotEqual(t, serials[0], serials[1], "each process issues its own leaf")

	// A restarted process finds the same CA.
	c := newGenerated(t, openStore(t, dir), "127.0.0.1")
	assert.Equal(t, string(a.CAPEM()), string(c.CAPEM()))
}

// servingtlsStore narrows a store to StateStore, so the test uses only what the package asks for.
type servingtlsStore struct{ servingtls.StateStore }

// racingStore lets another replica create the CA between this one's read and its create-only
// write, so the write conflicts: the lost race, made deterministic.
type racingStore struct {
	servingtls.StateStore
	t      *testing.T
	winner *servingtls.Source
	raced  atomic.Int32
}

func (r *racingStore) PutState(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	if r.raced.Add(1) == 1 {
		r.winner = newGenerated(r.t, r.StateStore, "127.0.0.1")
	}
	return r.StateStore.PutState(ctx, key, value, expected)
}

func TestLosingTheCreateRaceAdoptsTheWinnersCA(t *testing.T) {
	inner := openStore(t, t.TempDir())
	rs := &racingStore{StateStore: inner, t: t}
	var logs logBuffer
	loser, err := servingtls.New(context.Background(), servingtls.Options{Store: rs, SANs: []string{"127.0.0.1"}, Logger: logs.logger()})
	require.NoError(t, err)
	require.EqualValues(t, 1, rs.raced.Load(), "the loser attempted exactly one create")
	require.NotNil(t, rs.winner)
	assert.Equal(t, string(rs.winner.CAPEM()), string(loser.CAPEM()))
	assert.Contains(t, logs.String(), "another replica created the control-plane CA first")

	addr := serveTLS(t, loser.ServerConfig())
	_, err = handshake(t, addr, clientConfig(t, rs.winner.CAPEM(), "127.0.0.1"))
	require.NoError(t, err)
}

func TestGeneratedCertificateShape(t *testing.T) {
	s := newGenerated(t, openStore(t, t.TempDir()), "cp.example.com", "10.1.2.3")
	cas, err := certs.ParseCertificates(s.CAPEM())
	require.NoError(t, err)
	ca := cas[0]
	assert.Equal(t, servingtls.CAName, ca.Subject.CommonName)
	assert.True(t, ca.IsCA)
	assert.True(t, ca.MaxPathLenZero)
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, ca.KeyUsage)
	requireP256(t, ca.PublicKey)
	assert.WithinDuration(t, time.Now().Add(servingtls.CAValidity), ca.NotAfter, time.Minute)

	leaf := s.Leaf()
	assert.False(t, leaf.IsCA)
	requireP256(t, leaf.PublicKey)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)
	assert.Equal(t, x509.KeyUsageDigitalSignature, leaf.KeyUsage)
	assert.Equal(t, []string{"cp.example.com"}, leaf.DNSNames)
	require.Len(t, leaf.IPAddresses, 1)
	assert.Equal(t, "10.1.2.3", leaf.IPAddresses[0].String())
	assert.WithinDuration(t, time.Now().Add(servingtls.DefaultValidity), leaf.NotAfter, time.Minute)
	assert.WithinDuration(t, time.Now().Add(-servingtls.Backdate), leaf.NotBefore, time.Minute)
	assert.Equal(t, certs.SerialBits, leaf.SerialNumber.BitLen())
	require.NoError(t, leaf.CheckSignatureFrom(ca))
}

func requireP256(t *testing.T, pub any) {
	t.Helper()
	k, ok := pub.(*ecdsa.PublicKey)
	require.True(t, ok, "key is %T, want ECDSA", pub)
	require.Equal(t, elliptic.P256(), k.Curve)
}

// The client checks the name it dialed against the leaf's SANs: names in SANs pass, any other
// fails, whatever address the connection went to.
func TestServerNameMustBeInSANs(t *testing.T) {
	s := newGenerated(t, openStore(t, t.TempDir()), "CP.Example.com", "10.1.2.3", "127.0.0.1", "cp.example.com")
	assert.Equal(t, []string{"cp.example.com", "10.1.2.3", "127.0.0.1"}, s.SANs(), "canonical, deduplicated")
	addr := serveTLS(t, s.ServerConfig())
	for _, name := range []string{"cp.example.com", "10.1.2.3", "127.0.0.1", "127.0.0.1:5678"} {
		_, err := handshake(t, addr, clientConfig(t, s.CAPEM(), name))
		assert.NoError(t, err, name)
	}
	for _, name := range []string{"other.example.com", "localhost", "::1", "10.1.2.4", "example.com"} {
		_, err := handshake(t, addr, clientConfig(t, s.CAPEM(), name))
		var hostErr x509.HostnameError
		assert.ErrorAs(t, err, &hostErr, name)
	}
	// Another store's CA is not this one: the chain fails even for a name in SANs.
	other := newGenerated(t, openStore(t, t.TempDir()), "cp.example.com")
	_, err := handshake(t, addr, clientConfig(t, other.CAPEM(), "cp.example.com"))
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknown)
}

func TestDefaultSANs(t *testing.T) {
	st := openStore(t, t.TempDir())
	for _, tc := range []struct {
		name     string
		hostname func() (string, error)
		want     []string
	}{
		{"host name first", func() (string, error) { return "CP-Host-1", nil }, []string{"cp-host-1", "localhost", "127.0.0.1", "::1"}},
		{"invalid host name left out", func() (string, error) { return "bad_name", nil }, []string{"localhost", "127.0.0.1", "::1"}},
		{"unknown host name left out", func() (string, error) { return "", errors.New("no name") }, []string{"localhost", "127.0.0.1", "::1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := servingtls.New(context.Background(), servingtls.Options{Store: st, Hostname: tc.hostname, Logger: quietLogger()})
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.SANs())
			addr := serveTLS(t, s.ServerConfig())
			for _, name := range tc.want {
				_, err := handshake(t, addr, clientConfig(t, s.CAPEM(), name))
				assert.NoError(t, err, name)
			}
		})
	}
	real := servingtls.DefaultSANs()
	assert.Equal(t, []string{"localhost", "127.0.0.1", "::1"}, real[len(real)-3:])
}

func TestInvalidSANsAreRejected(t *testing.T) {
	st := openStore(t, t.TempDir())
	for _, san := range []string{"", "cp.example.com:5678", "a b", "https://cp.example.com", "fe80::1%eth0", "-cp.example.com", "cp..example.com", "user@example.com", "cp_1.example.com"} {
		_, err := servingtls.New(context.Background(), servingtls.Options{Store: st, SANs: []string{"localhost", san}, Logger: quietLogger()})
		require.Error(t, err, "%q", san)
		assert.Contains(t, err.Error(), "SAN", "%q", san)
	}
	s := newGenerated(t, st, "*.cp.example.com")
	addr := serveTLS(t, s.ServerConfig())
	_, err := handshake(t, addr, clientConfig(t, s.CAPEM(), "a.cp.example.com"))
	assert.NoError(t, err, "a wildcard SAN covers one label")
}

// OpenSSL is the second verifier: the generated leaf verifies as a TLS server certificate for
// its name and IP against the CA alone, with RFC 5280 strictness, and not for another name.
func TestOpenSSLVerifiesGeneratedLeaf(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skipf("openssl is not on PATH (%v): skipping the independent verification; CI installs it (apt-get install openssl)", err)
	}
	s := newGenerated(t, openStore(t, t.TempDir()), "cp.example.com", "127.0.0.1")
	dir := t.TempDir()
	caFile, leafFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "leaf.pem")
	require.NoError(t, os.WriteFile(caFile, s.CAPEM(), 0o600))
	require.NoError(t, os.WriteFile(leafFile, certs.EncodeCertificates(s.Leaf()), 0o600))
	verify := func(check ...string) (string, error) {
		args := append([]string{"verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", caFile}, check...)
		out, err := exec.Command(bin, append(args, leafFile)...).CombinedOutput()
		return string(out), err
	}
	for _, check := range [][]string{{"-verify_hostname", "cp.example.com"}, {"-verify_ip", "127.0.0.1"}} {
		out, err := verify(check...)
		require.NoError(t, err, "openssl verify %v: %s", check, out)
		require.Contains(t, out, leafFile+": OK")
	}
	out, err := verify("-verify_hostname", "other.example.com")
	require.Error(t, err, "openssl must refuse a name not in the SANs: %s", out)
	assert.Contains(t, strings.ToLower(out), "hostname mismatch")
}

// With a real clock and a short life, Run replaces the leaf at 2/3 of it; the server keeps its
// listener and the next handshake gets the new leaf.
func TestRenewalWithoutRestart(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := openStore(t, t.TempDir())
	start := time.Now() // at or before the leaf's issuance
	s, err := servingtls.New(context.Background(), servingtls.Options{
		Store: st, SANs: []string{"127.0.0.1"}, Logger: quietLogger(),
		Validity: 1500 * time.Millisecond,
		// Long enough that only the leaf's own renewal time can wake the loop in this test.
		CheckInterval: time.Hour,
		Registerer:    reg,
	})
	require.NoError(t, err)
	addr := serveTLS(t, s.ServerConfig())
	cfg := clientConfig(t, s.CAPEM(), "127.0.0.1")
	first := servedSerial(t, addr, cfg)
	// NotAfter is whole seconds, so the leaf's real life is up to a second short of Validity;
	// renewal is due at 2/3 of the real life, which is no earlier than this.
	notAfter := s.Leaf().NotAfter
	earliest := start.Add(notAfter.Sub(start) * 2 / 3)
	runSource(t, s)

	var second string
	waitFor(t, 10*time.Second, "a renewed leaf", func() bool {
		second = servedSerial(t, addr, cfg)
		return second != first
	})
	assert.False(t, time.Now().Before(earliest), "renewed before 2/3 of its life")
	assert.Equal(t, second, s.Leaf().SerialNumber.String())
	assert.GreaterOrEqual(t, updatesValue(t, reg, "ok"), 1.0)
	assert.Equal(t, float64(s.Leaf().NotAfter.Unix()), gaugeValue(t, reg))
}

// With an injected clock: nothing happens before 2/3 of the leaf's life, and right after it a
// new leaf with the new time is served.
func TestRenewalAtTwoThirdsOfLife(t *testing.T) {
	clk := newClock()
	s, err := servingtls.New(context.Background(), servingtls.Options{
		Store: openStore(t, t.TempDir()), SANs: []string{"127.0.0.1"}, Logger: quietLogger(),
		Now: clk.Now, CheckInterval: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	issued := clk.Now()
	addr := serveTLS(t, s.ServerConfig())
	cfg := clientConfig(t, s.CAPEM(), "127.0.0.1")
	cfg.Time = clk.Now // the new leaf starts in the clock's future
	first := servedSerial(t, addr, cfg)
	runSource(t, s)

	renewAt := issued.Add(servingtls.DefaultValidity * 2 / 3)
	clk.Set(renewAt.Add(-time.Minute))
	time.Sleep(200 * time.Millisecond) // twenty checks
	require.Equal(t, first, servedSerial(t, addr, cfg), "renewed before its time")

	clk.Set(renewAt.Add(time.Minute))
	waitFor(t, 5*time.Second, "a renewed leaf", func() bool { return servedSerial(t, addr, cfg) != first })
	leaf := s.Leaf()
	assert.Equal(t, renewAt.Add(time.Minute-servingtls.Backdate).Unix(), leaf.NotBefore.Unix())
	assert.Equal(t, renewAt.Add(time.Minute+servingtls.DefaultValidity).Unix(), leaf.NotAfter.Unix())
}

func TestExpiredStoredCAIsAnError(t *testing.T) {
	st := openStore(t, t.TempDir())
	clk := newClock()
	clk.Set(time.Now().Add(-servingtls.CAValidity - time.Hour))
	_, err := servingtls.New(context.Background(), servingtls.Options{Store: st, SANs: []string{"localhost"}, Now: clk.Now, Logger: quietLogger()})
	require.NoError(t, err)
	_, err = servingtls.New(context.Background(), servingtls.Options{Store: st, SANs: []string{"localhost"}, Logger: quietLogger()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), servingtls.StateKey)
	assert.Contains(t, err.Error(), "expired")
}

func TestLoadCAPEMBeforeAnyControlPlane(t *testing.T) {
	_, err := servingtls.LoadCAPEM(context.Background(), openStore(t, t.TempDir()))
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := openStore(t, t.TempDir())
	s, err := servingtls.New(context.Background(), servingtls.Options{Store: st, SANs: []string{"localhost"}, Registerer: reg, Logger: quietLogger()})
	require.NoError(t, err)
	assert.Equal(t, float64(s.Leaf().NotAfter.Unix()), gaugeValue(t, reg))
	_, err = servingtls.New(context.Background(), servingtls.Options{Store: st, SANs: []string{"localhost"}, Registerer: reg, Logger: quietLogger()})
	require.ErrorContains(t, err, "already registered")
}

func gaugeValue(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "meshgate_serving_tls_certificate_not_after_timestamp_seconds" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no NotAfter gauge")
	return 0
}

// updatesValue reads one result of the updates counter through the registry, as a scrape would.
func updatesValue(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "meshgate_serving_tls_certificate_updates_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestOptionsErrors(t *testing.T) {
	st := openStore(t, t.TempDir())
	for _, tc := range []struct {
		opts servingtls.Options
		want string
	}{
		{servingtls.Options{}, "no store"},
		{servingtls.Options{CertFile: "c.pem"}, "without a key file"},
		{servingtls.Options{KeyFile: "k.pem"}, "without a cert file"},
		{servingtls.Options{Store: st, RenewFraction: 1}, "renew fraction"},
		{servingtls.Options{Store: st, Validity: -time.Second}, "validity"},
	} {
		tc.opts.Logger = quietLogger()
		_, err := servingtls.New(context.Background(), tc.opts)
		assert.ErrorContains(t, err, tc.want)
	}
}

func TestClientConfig(t *testing.T) {
	s := newGenerated(t, openStore(t, t.TempDir()), "::1", "127.0.0.1")
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1"}, {"127.0.0.1:5678", "127.0.0.1"}, {"[::1]:5678", "::1"}, {"[::1]", "::1"}, {"::1", "::1"},
		{"cp.example.com", "cp.example.com"},
	} {
		cfg, err := servingtls.ClientConfig(s.CAPEM(), tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, cfg.ServerName, tc.in)
		assert.False(t, cfg.InsecureSkipVerify)
	}
	_, err := servingtls.ClientConfig(s.CAPEM(), "")
	assert.ErrorContains(t, err, "no server name")
	_, err = servingtls.ClientConfig([]byte("not pem"), "localhost")
	assert.ErrorContains(t, err, "CA")

	// The server refuses TLS 1.1 and below.
	addr := serveTLS(t, s.ServerConfig())
	old := clientConfig(t, s.CAPEM(), "127.0.0.1")
	old.MinVersion, old.MaxVersion = 0x0301, 0x0302
	_, err = handshake(t, addr, old)
	assert.Error(t, err)
}
