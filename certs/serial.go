package certs

import (
	"crypto/rand"
	"fmt"
	"math/big"
)

// SerialBits is the size of every serial number meshgate assigns.
const SerialBits = 128

// NewSerial returns a random serial number of exactly 128 bits: 127 random bits under a set top
// bit. The fixed length keeps serials positive, non-zero and the same size in every certificate
// (and in logs); 127 bits of entropy is far beyond the 64 the CA/B Forum asks for.
func NewSerial() (*big.Int, error) {
	var b [SerialBits / 8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	b[0] |= 0x80
	return new(big.Int).SetBytes(b[:]), nil
}
