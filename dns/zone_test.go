package dns

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewZoneValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ZoneConfig
		err  string
	}{
		{"outside origin", ZoneConfig{Global: []Record{{Name: "foo.example.com"}}}, "not below the origin"},
		{"apex", ZoneConfig{Global: []Record{{Name: "mesh."}}}, "not below the origin"},
		{"empty name", ZoneConfig{Global: []Record{{Name: ""}}}, "not a valid domain name"},
		{"escape", ZoneConfig{Global: []Record{{Name: `a\.b.mesh`}}}, "not a valid domain name"},
		{"v6 in A", ZoneConfig{Global: []Record{{Name: "a.mesh", A: mustAddrs(t, "fd00::1")}}}, "not IPv4"},
		{"v4 in AAAA", ZoneConfig{Global: []Record{{Name: "a.mesh", AAAA: mustAddrs(t, "1.2.3.4")}}}, "not IPv6"},
		{"global and view", ZoneConfig{
			Global: []Record{{Name: "a.mesh"}},
			Views:  map[string][]Record{"m": {{Name: "A.mesh."}}},
		}, `view "m": name a.mesh. is also global`},
		{"bad ttl", ZoneConfig{TTL: 1500 * time.Millisecond}, "whole number of seconds"},
		{"bad origin", ZoneConfig{Origin: "a..b"}, "not a domain name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewZone(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

func TestNewZoneMergesAndSorts(t *testing.T) {
	z, err := NewZone(ZoneConfig{Origin: "Mesh", Global: []Record{
		{Name: "B.mesh", A: mustAddrs(t, "10.0.0.2", "10.0.0.1")},
		{Name: "b.MESH.", A: mustAddrs(t, "10.0.0.1", "::ffff:10.0.0.3")},
	}})
	require.NoError(t, err)
	assert.Equal(t, "mesh.", z.Origin())
	e := z.global["b.mesh."]
	require.NotNil(t, e)
	require.NotNil(t, e.a)
	assert.Equal(t, []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, answerIPs(e.a.msg))
	assert.Equal(t, uint32(30), e.a.msg.Answer[0].Header().Ttl)
}
