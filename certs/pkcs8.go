package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"fmt"
)

// The DER of a P-256 private key as x509.MarshalPKCS8PrivateKey writes it has one fixed layout,
// 138 bytes: a PrivateKeyInfo (RFC 5208) naming id-ecPublicKey and prime256v1, holding an
// ECPrivateKey (RFC 5915) with the 32-byte scalar and the 65-byte uncompressed public point,
// without curve parameters (they are in the algorithm identifier).
var (
	p256PKCS8Head = []byte{
		0x30, 0x81, 0x87, // SEQUENCE, 135 bytes: PrivateKeyInfo
		0x02, 0x01, 0x00, // INTEGER 0: version
		0x30, 0x13, // SEQUENCE, 19 bytes: AlgorithmIdentifier
		0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, // OID 1.2.840.10045.2.1 id-ecPublicKey
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, // OID 1.2.840.10045.3.1.7 prime256v1
		0x04, 0x6d, // OCTET STRING, 109 bytes: privateKey
		0x30, 0x6b, // SEQUENCE, 107 bytes: ECPrivateKey
		0x02, 0x01, 0x01, // INTEGER 1: version
		0x04, 0x20, // OCTET STRING, 32 bytes: the scalar, which follows
	}
	p256PKCS8Mid = []byte{
		0xa1, 0x44, // [1], 68 bytes: publicKey
		0x03, 0x42, 0x00, // BIT STRING, 66 bytes, no unused bits: the point, which follows
	}
)

const p256PKCS8Len = 138

// marshalP256PKCS8 is x509.MarshalPKCS8PrivateKey for a P-256 key, byte for byte (a test holds
// it to that on many keys). Every issued leaf gets a new key encoded this way, and the general
// encoders cost a twentieth of an issuance: encoding/asn1 marshals two nested structures by
// reflection, and cryptobyte allocates a buffer per nesting level. Only the scalar and the
// point vary, so they are copied into the fixed layout.
func marshalP256PKCS8(k *ecdsa.PrivateKey) ([]byte, error) {
	if k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("marshal PKCS#8: curve %s, want P-256", k.Curve.Params().Name)
	}
	// D rather than k.Bytes(): Bytes converts the key to its FIPS form and caches that, which
	// costs more than the rest of the encoding, for a key that never signs in this process.
	if k.D == nil || k.D.Sign() <= 0 || k.D.BitLen() > 256 {
		return nil, errors.New("marshal PKCS#8: invalid P-256 private scalar")
	}
	q, err := k.PublicKey.Bytes()
	if err != nil {
		return nil, fmt.Errorf("marshal PKCS#8: %w", err)
	}
	if len(q) != 65 {
		return nil, fmt.Errorf("marshal PKCS#8: public point of %d bytes, want 65", len(q))
	}
	der := make([]byte, p256PKCS8Len)
	n := copy(der, p256PKCS8Head)
	k.D.FillBytes(der[n : n+32])
	n += 32
	n += copy(der[n:], p256PKCS8Mid)
	copy(der[n:], q)
	return der, nil
}
