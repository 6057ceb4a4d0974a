package certs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
)

func TestNewSerial(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s, err := certs.NewSerial()
		require.NoError(t, err)
		require.Equal(t, certs.SerialBits, s.BitLen())
		require.False(t, seen[s.String()], "duplicate serial %s", s)
		seen[s.String()] = true
	}
}
