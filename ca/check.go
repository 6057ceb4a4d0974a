package ca

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
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

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

func describe(c *x509.Certificate) string {
	if s := c.Subject.String(); s != "" {
		return fmt.Sprintf("certificate %q", s)
	}
	return fmt.Sprintf("certificate with serial %s", c.SerialNumber)
}
