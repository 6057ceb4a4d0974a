package servingtls

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/meshgate/meshgate/certs"
)

// filePair is one read of the cert and key files.
type filePair struct {
	cert, key []byte
}

func readPair(certFile, keyFile string) (filePair, error) {
	c, err := os.ReadFile(certFile)
	if err != nil {
		return filePair{}, fmt.Errorf("read cert file: %w", err)
	}
	k, err := os.ReadFile(keyFile)
	if err != nil {
		return filePair{}, fmt.Errorf("read key file: %w", err)
	}
	return filePair{cert: c, key: k}, nil
}

// fingerprint identifies a read by content, not by mtime: a Kubernetes secret update swaps a
// symlink and may keep sizes and times, and a rewrite within one mtime tick keeps both.
func (p filePair) fingerprint() [sha256.Size]byte {
	h := sha256.New()
	h.Write(p.cert)
	h.Write([]byte{0})
	h.Write(p.key)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// loadPair parses and checks a pair, naming the file at fault. required are SANs the
// certificate must cover.
func loadPair(p filePair, certFile, keyFile string, required sanSet, now time.Time) (*served, error) {
	chain, err := certs.ParseCertificates(p.cert)
	if err != nil {
		return nil, fmt.Errorf("cert file %s: %w", certFile, err)
	}
	key, err := certs.ParsePrivateKey(p.key)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", keyFile, err)
	}
	leaf := chain[0]
	if err := certs.KeyMatches(leaf.PublicKey, key); err != nil {
		return nil, fmt.Errorf("key file %s does not hold the private key of the certificate in %s: %w", keyFile, certFile, err)
	}
	if err := checkServingLeaf(leaf, now); err != nil {
		return nil, fmt.Errorf("cert file %s: %w", certFile, err)
	}
	for i := 0; i+1 < len(chain); i++ {
		if err := chain[i].CheckSignatureFrom(chain[i+1]); err != nil {
			return nil, fmt.Errorf("cert file %s: certificate %d (%s) is not signed by certificate %d (%s), which follows it: %w",
				certFile, i+1, chain[i].Subject, i+2, chain[i+1].Subject, err)
		}
	}
	for _, name := range required.all {
		if err := leaf.VerifyHostname(name); err != nil {
			return nil, fmt.Errorf("cert file %s: the certificate does not cover the required SAN %s: %w", certFile, name, err)
		}
	}
	raw := make([][]byte, len(chain))
	for i, c := range chain {
		raw[i] = c.Raw
	}
	return &served{
		cert:  &tls.Certificate{Certificate: raw, PrivateKey: key, Leaf: leaf},
		caPEM: fileCAPEM(chain),
		sans:  leafSANs(leaf),
		fp:    p.fingerprint(),
	}, nil
}

// checkServingLeaf refuses what every client would refuse anyway.
func checkServingLeaf(leaf *x509.Certificate, now time.Time) error {
	switch {
	case !now.Before(leaf.NotAfter):
		return fmt.Errorf("the certificate expired at %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	case leaf.BasicConstraintsValid && leaf.IsCA && len(leaf.DNSNames)+len(leaf.IPAddresses) == 0:
		return errors.New("the first certificate is a CA without SANs, not a serving certificate; put the leaf first")
	case len(leaf.ExtKeyUsage) > 0 && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) &&
		!slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny):
		return errors.New("the certificate's extended key usage does not allow TLS server authentication")
	}
	return nil
}

// fileCAPEM is what clients of a file-mode certificate should trust: the certificates after
// the leaf, or the leaf itself when it is self-signed, or nothing (it then chains to a CA the
// clients must already have).
func fileCAPEM(chain []*x509.Certificate) []byte {
	if len(chain) > 1 {
		return certs.EncodeCertificates(chain[1:]...)
	}
	leaf := chain[0]
	// CheckSignature rather than CheckSignatureFrom: a self-signed leaf need not be a CA to be
	// trusted as itself.
	if bytes.Equal(leaf.RawIssuer, leaf.RawSubject) && leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil {
		return certs.EncodeCertificates(leaf)
	}
	return nil
}

func leafSANs(leaf *x509.Certificate) []string {
	out := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		out = append(out, net.IP(ip).String())
	}
	return out
}
