package stepca

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.step.sm/crypto/pemutil"
)

// Config says which step-ca signs the mesh's leaves and how meshgate authenticates to it.
type Config struct {
	// URL of the step-ca, e.g. https://ca.example.com:9000.
	URL string
	// RootFingerprint is the SHA-256 of the step-ca root certificate, as `step ca init` and
	// `step certificate fingerprint root_ca.crt` print it. Either it or RootPEM is required;
	// when both are set they must agree.
	RootFingerprint string
	// RootPEM holds the step-ca root certificate(s). The first one is the one pinned.
	RootPEM []byte
	// Provisioner is the name of a JWK provisioner of that step-ca.
	Provisioner string
	// ProvisionerPassword decrypts the JWK provisioner's key, which meshgate fetches from the
	// CA. Trailing whitespace is not trimmed here (ConfigFromConf does it, as step does for
	// password files).
	ProvisionerPassword []byte
}

// pin is the root a Config trusts: the fingerprint stepcas wants and, when the user gave
// the certificates, the pool to check the CA's TLS certificate against.
type pin struct {
	fingerprint string
	rootPEM     []byte
}

// check validates cfg without touching the network and works out the root to pin.
func (cfg Config) check() (pin, error) {
	var errs []error
	if err := checkURL(cfg.URL); err != nil {
		errs = append(errs, err)
	}
	if cfg.Provisioner == "" {
		errs = append(errs, errors.New("provisioner: required (the name of a JWK provisioner)"))
	}
	if len(cfg.ProvisionerPassword) == 0 {
		errs = append(errs, errors.New("password: required (the JWK provisioner's key password; stepcas would otherwise prompt on a terminal)"))
	}
	p, err := cfg.pin()
	if err != nil {
		errs = append(errs, err)
	}
	return p, errors.Join(errs...)
}

func checkURL(raw string) error {
	if raw == "" {
		return errors.New("url: required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("url: %q must be an https URL with a host, like https://ca.example.com:9000", raw)
	}
	return nil
}

func (cfg Config) pin() (pin, error) {
	var fp string
	if cfg.RootFingerprint != "" {
		var err error
		if fp, err = normalizeFingerprint(cfg.RootFingerprint); err != nil {
			return pin{}, err
		}
	}
	if len(cfg.RootPEM) == 0 {
		if fp == "" {
			return pin{}, errors.New("rootFingerprint or root: one of them is required")
		}
		return pin{fingerprint: fp}, nil
	}
	roots, err := pemutil.ParseCertificateBundle(cfg.RootPEM)
	if err != nil {
		return pin{}, fmt.Errorf("root: %w", err)
	}
	sum := fingerprintOf(roots[0])
	if fp != "" && fp != sum {
		return pin{}, fmt.Errorf("root: the certificate's SHA-256 fingerprint %s does not match rootFingerprint %s", sum, fp)
	}
	return pin{fingerprint: sum, rootPEM: cfg.RootPEM}, nil
}

// normalizeFingerprint accepts the forms people paste (upper case, colon- or dash-separated)
// and returns the lower-case hex that step-ca's /root/{sha} endpoint expects.
func normalizeFingerprint(s string) (string, error) {
	clean := strings.ToLower(strings.NewReplacer(":", "", "-", "", " ", "").Replace(strings.TrimSpace(s)))
	if b, err := hex.DecodeString(clean); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("rootFingerprint: %q is not a SHA-256 fingerprint (64 hex digits)", s)
	}
	return clean, nil
}

func fingerprintOf(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
