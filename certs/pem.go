package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"go.step.sm/crypto/pemutil"
)

// EncodeCertificates returns the certificates as concatenated PEM blocks, in order.
func EncodeCertificates(certs ...*x509.Certificate) []byte {
	n := 0
	for _, c := range certs {
		n += pemLen(pemCertificate, len(c.Raw))
	}
	out := make([]byte, 0, n)
	for _, c := range certs {
		out = appendPEM(out, pemCertificate, c.Raw)
	}
	return out
}

const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY"
)

// appendPEM appends a PEM block without headers to dst, byte for byte as pem.Encode writes it
// (a test holds it to that): base64 in lines of 64 characters. Every issuance encodes a chain
// and a key; pem.Encode allocates a base64 stream encoder and a growing buffer for each block,
// which costs more than the encoding itself, while the size is known beforehand (pemLen).
func appendPEM(dst []byte, typ string, der []byte) []byte {
	dst = append(append(append(dst, "-----BEGIN "...), typ...), "-----\n"...)
	for len(der) > 0 {
		line := der[:min(pemLineBytes, len(der))]
		der = der[len(line):]
		dst = append(base64.StdEncoding.AppendEncode(dst, line), '\n')
	}
	return append(append(append(dst, "-----END "...), typ...), "-----\n"...)
}

// pemLineBytes is how many bytes one 64-character base64 line holds.
const pemLineBytes = 48

// pemLen is the length of appendPEM's output for a block of type typ around n bytes.
func pemLen(typ string, n int) int {
	b64 := base64.StdEncoding.EncodedLen(n)
	lines := (n + pemLineBytes - 1) / pemLineBytes
	return len("-----BEGIN -----\n") + len("-----END -----\n") + 2*len(typ) + b64 + lines
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
	if k, ok := key.(*ecdsa.PrivateKey); ok && k.Curve == elliptic.P256() {
		// The key of every default leaf: the fast path (see marshalP256PKCS8).
		der, err := marshalP256PKCS8(k)
		if err != nil {
			return nil, fmt.Errorf("encode private key: %w", err)
		}
		return appendPEM(make([]byte, 0, pemLen(pemPrivateKey, len(der))), pemPrivateKey, der), nil
	}
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
