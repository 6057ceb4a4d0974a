package dns

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTruncationFallsBackToTCP(t *testing.T) {
	var many []netip.Addr
	for i := range 100 {
		many = append(many, netip.MustParseAddr(fmt.Sprintf("240.0.1.%d", i)))
	}
	z, err := NewZone(ZoneConfig{Global: []Record{{Name: "big.mesh", A: many}}})
	require.NoError(t, err)
	_, addr := startServer(t, Options{}, z)

	r := exchange(t, "udp", addr, "big.mesh.", mdns.TypeA)
	assert.True(t, r.Truncated, "100 A records do not fit 512 bytes")
	assert.Less(t, len(r.Answer), 100)

	// An EDNS client with a big buffer gets everything over UDP.
	c := &mdns.Client{Net: "udp", UDPSize: 4096, Timeout: 3 * time.Second}
	m := new(mdns.Msg).SetQuestion("big.mesh.", mdns.TypeA)
	m.SetEdns0(4096, false)
	r, _, err = c.Exchange(m, addr)
	require.NoError(t, err)
	assert.False(t, r.Truncated)
	assert.Len(t, r.Answer, 100)

	r = exchange(t, "tcp", addr, "big.mesh.", mdns.TypeA)
	assert.False(t, r.Truncated)
	assert.Len(t, r.Answer, 100)
}
