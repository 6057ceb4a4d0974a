package controlplane

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestServingSANs(t *testing.T) {
	assert.Equal(t, []string{"cp.example"}, servingSANs(TLSConfig{SANs: []string{"cp.example"}}))
	assert.Nil(t, servingSANs(TLSConfig{CertFile: "c.pem", KeyFile: "k.pem"}), "a given certificate is not held to generated defaults")

	sans := servingSANs(TLSConfig{})
	assert.Contains(t, sans, "localhost")
	assert.Contains(t, sans, "127.0.0.1")
	assert.Contains(t, sans, "::1")
	// Every global unicast address of this host is covered, once.
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsGlobalUnicast() {
				assert.Contains(t, sans, ipn.IP.String())
			}
		}
	}
	seen := map[string]bool{}
	for _, s := range sans {
		assert.False(t, seen[s], "duplicate SAN %s", s)
		seen[s] = true
	}
}
