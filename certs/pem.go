package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"go.step.sm/crypto/pemutil"
)

// EncodeCertificates returns the certificates as concatenated PEM blocks, in order.
func EncodeCertificates(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		// pem.Encode to a bytes.Buffer cannot fail.
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// ParseCertificates parses a PEM bundle (or one DER certificate), keeping its order. PEM blocks
// that are not certificates are skipped, as in pemutil; a bundle without any is an error.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("parse certificates: no data")
	}
	cs, err := pemutil.ParseCertificateBundle(data)
	if err != nil {
		return nil, fmt.Errorf("parse certificates: %w", err)
	}
	return cs, nil
}

// EncodePrivateKey returns key as a PKCS#8 `PRIVATE KEY` PEM block: one format for every key
// type, which Envoy, OpenSSL and Go all read.
func EncodePrivateKey(key crypto.Signer) ([]byte, error) {
	b, err := pemutil.Serialize(key, pemutil.WithPKCS8(true))
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(b), nil
}

// ParsePrivateKey reads a PEM private key in PKCS#8, PKCS#1 (RSA) or SEC 1 (EC) form, which
// covers what users hand Kuma as a provided CA key.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("parse private key: no data")
	}
	k, err := pemutil.ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("parse private key: %T is not a private key", k)
	}
	return s, nil
}
