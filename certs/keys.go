package certs

import (
	"crypto"
	"fmt"

	"go.step.sm/crypto/keyutil"
)

// KeyType is a key algorithm, spelled as JOSE's `kty` (what keyutil takes).
type KeyType string

const (
	KeyEC  KeyType = "EC"
	KeyRSA KeyType = "RSA"
)

// KeySpec says which key to generate. The zero value is ECDSA P-256, meshgate's default for
// every key it makes: small certificates, fast handshakes, cheap issuance.
type KeySpec struct {
	Type KeyType
	// Bits is the RSA modulus size: 2048, 3072 or 4096. It must be 0 for EC, which is P-256 only.
	Bits int
}

// ECDSAP256 is the default key spec, spelled out.
var ECDSAP256 = KeySpec{Type: KeyEC}

// RSA is an RSA key spec of the given size.
func RSA(bits int) KeySpec { return KeySpec{Type: KeyRSA, Bits: bits} }

func (s KeySpec) normal() KeySpec {
	if s.Type == "" {
		s.Type = KeyEC
	}
	return s
}

// Validate rejects sizes keyutil would accept but Kuma-compatible peers should not get.
func (s KeySpec) Validate() error {
	s = s.normal()
	switch s.Type {
	case KeyEC:
		if s.Bits != 0 {
			return fmt.Errorf("EC keys are P-256 only; bits must be 0, not %d", s.Bits)
		}
	case KeyRSA:
		switch s.Bits {
		case 2048, 3072, 4096:
		default:
			return fmt.Errorf("RSA key size %d: must be 2048, 3072 or 4096", s.Bits)
		}
	default:
		return fmt.Errorf("unknown key type %q: must be EC or RSA", s.Type)
	}
	return nil
}

func (s KeySpec) String() string {
	s = s.normal()
	if s.Type == KeyRSA {
		return fmt.Sprintf("RSA-%d", s.Bits)
	}
	return "ECDSA-P256"
}

// GenerateKey generates a private key.
func GenerateKey(s KeySpec) (crypto.Signer, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s = s.normal()
	var (
		k   crypto.Signer
		err error
	)
	if s.Type == KeyRSA {
		k, err = keyutil.GenerateSigner(string(KeyRSA), "", s.Bits)
	} else {
		k, err = keyutil.GenerateSigner(string(KeyEC), "P-256", 0)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", s, err)
	}
	return k, nil
}

// KeyMatches reports, as an error, whether key is the private key of pub (a certificate's).
func KeyMatches(pub crypto.PublicKey, key crypto.Signer) error {
	if err := keyutil.VerifyPair(pub, key); err != nil {
		return fmt.Errorf("key pair: %w", err)
	}
	return nil
}
