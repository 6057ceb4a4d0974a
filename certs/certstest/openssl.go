package certstest

import (
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
)

// OpenSSLVerify runs `openssl verify -x509_strict -purpose P -CAfile bundle.pem [-untrusted
// chain.pem] leaf.pem` for both TLS purposes a mesh leaf serves (server and client) and returns
// the first failure's output. A missing openssl fails the test rather than skipping it: the
// second verifier is the point (Debian/Ubuntu package: openssl).
func OpenSSLVerify(t testing.TB, roots, intermediates []*x509.Certificate, leaf *x509.Certificate) error {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	require.NoError(t, err, "openssl is required to verify certificates independently (apt-get install openssl)")
	dir := t.TempDir()
	write := func(name string, cs []*x509.Certificate) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, certs.EncodeCertificates(cs...), 0o600))
		return p
	}
	args := []string{"verify", "-x509_strict", "-CAfile", write("bundle.pem", roots)}
	if len(intermediates) > 0 {
		args = append(args, "-untrusted", write("chain.pem", intermediates))
	}
	leafPath := write("leaf.pem", []*x509.Certificate{leaf})
	for _, purpose := range []string{"sslserver", "sslclient"} {
		full := append(append([]string{}, args...), "-purpose", purpose, leafPath)
		out, err := exec.Command(bin, full...).CombinedOutput()
		if err != nil {
			return &OpenSSLError{Args: full, Output: string(out), Err: err}
		}
		if !strings.Contains(string(out), leafPath+": OK") {
			return &OpenSSLError{Args: full, Output: string(out)}
		}
	}
	return nil
}

// RequireOpenSSLVerify fails the test unless OpenSSLVerify passes.
func RequireOpenSSLVerify(t testing.TB, roots, intermediates []*x509.Certificate, leaf *x509.Certificate) {
	t.Helper()
	require.NoError(t, OpenSSLVerify(t, roots, intermediates, leaf))
}

// OpenSSLError is a failed openssl verify, with what it printed.
type OpenSSLError struct {
	Args   []string
	Output string
	Err    error
}

func (e *OpenSSLError) Error() string {
	msg := "openssl " + strings.Join(e.Args, " ") + ": " + strings.TrimSpace(e.Output)
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}
