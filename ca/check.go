package ca

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/meshgate/meshgate/certs"
)

// checkChain refuses a CA that would issue certificates nobody accepts: chain[0] is the signing
// CA whose key is key, followed by its issuers up to a self-signed root.
func checkChain(chain []*x509.Certificate, key crypto.Signer, now time.Time) error {
	if len(chain) == 0 {
		return errors.New("no CA certificate")
	}
	for i, c := range chain {
		switch {
		case !c.BasicConstraintsValid || !c.IsCA:
			return fmt.Errorf("%w: %s has no basicConstraints CA:true", ErrNotCA, describe(c))
		case c.KeyUsage&x509.KeyUsageCertSign == 0:
			return fmt.Errorf("%w: %s", ErrNoCertSign, describe(c))
		case now.After(c.NotAfter):
			return fmt.Errorf("%w: %s expired at %s", ErrExpired, describe(c), c.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(c.NotBefore):
			return fmt.Errorf("%w: %s is valid from %s", ErrNotYetValid, describe(c), c.NotBefore.UTC().Format(time.RFC3339))
		}
		if i+1 < len(chain) {
			if err := c.CheckSignatureFrom(chain[i+1]); err != nil {
				return fmt.Errorf("%w: %s is not signed by the next certificate, %s: %v", ErrBrokenChain, describe(c), describe(chain[i+1]), err)
			}
		}
	}
	if err := certs.KeyMatches(chain[0].PublicKey, key); err != nil {
		return fmt.Errorf("%w: %s", ErrKeyMismatch, describe(chain[0]))
	}
	if last := chain[len(chain)-1]; !selfSigned(last) {
		// Envoy (BoringSSL) anchors trust only in self-signed roots, so a bundle holding just an
		// intermediate would verify here and fail in every dataplane.
		return fmt.Errorf("%w: %s is issued by %q; append its issuers up to the root", ErrNoRoot, describe(last), last.Issuer.String())
	}
	return nil
}

// leafWant is what an issued leaf must state, for checkLeaf.
type leafWant struct {
	// parent is the CA certificate that signed the leaf.
	parent *x509.Certificate
	// uris are the URI SANs asked for, in order: the primary SPIFFE ID first, which is the one
	// Envoy's SPIFFE validator reads.
	uris []*url.URL
	// key is the private key generated for the leaf: the certificate must be for its public half.
	key crypto.Signer
	// notBefore and notAfter bound the leaf's validity (the chain's); a zero notBefore is no
	// bound (step-ca backdates on its own).
	notBefore, notAfter time.Time
	now                 time.Time
}

// checkLeaf checks the structure of an issued leaf: issued by parent (names, and key
// identifiers when parent has one), an end-entity certificate, exactly the requested URI SANs,
// for the requested key, and valid now within the chain's validity. It does not check the
// signature: x509.CreateCertificate has verified the one it made against the CA key, and a leaf
// from a remote CA goes through certs.VerifySVID as well (see meshCA.issue).
func checkLeaf(leaf *x509.Certificate, want leafWant) error {
	p := want.parent
	switch {
	case !bytes.Equal(leaf.RawIssuer, p.RawSubject):
		return fmt.Errorf("issued by %q, not by the signing CA %s", leaf.Issuer.String(), describe(p))
	case len(p.SubjectKeyId) > 0 && !bytes.Equal(leaf.AuthorityKeyId, p.SubjectKeyId):
		return fmt.Errorf("authority key id %x is not the signing CA's subject key id %x", leaf.AuthorityKeyId, p.SubjectKeyId)
	case leaf.IsCA:
		return errors.New("issued as a CA certificate")
	case !want.notBefore.IsZero() && leaf.NotBefore.Before(want.notBefore):
		return fmt.Errorf("valid from %s, before its chain (%s)", leaf.NotBefore.UTC().Format(time.RFC3339), want.notBefore.UTC().Format(time.RFC3339))
	case leaf.NotAfter.After(want.notAfter):
		return fmt.Errorf("valid until %s, after its chain (%s)", leaf.NotAfter.UTC().Format(time.RFC3339), want.notAfter.UTC().Format(time.RFC3339))
	case want.now.Before(leaf.NotBefore) || !want.now.Before(leaf.NotAfter):
		return fmt.Errorf("not valid now: valid from %s until %s", leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if err := sameURIs(leaf.URIs, want.uris); err != nil {
		return err
	}
	if err := certs.KeyMatches(leaf.PublicKey, want.key); err != nil {
		return fmt.Errorf("certifies another key: %w", err)
	}
	return nil
}

// sameURIs requires the URI SANs asked for, in that order, and no others.
func sameURIs(got, want []*url.URL) error {
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = *got[i] == *want[i] || got[i].String() == want[i].String()
	}
	if !ok {
		return fmt.Errorf("URI SANs %v, want %v", got, want)
	}
	return nil
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

func describe(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return fmt.Sprintf("certificate %q", s)
	}
	return fmt.Sprintf("certificate with serial %s", c.SerialNumber)
}
