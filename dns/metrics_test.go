package dns

import (
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, addr := startServer(t, Options{Registerer: reg}, testZone(t))
	exchange(t, "udp", addr, "api.example.mesh.", mdns.TypeA)
	exchange(t, "tcp", addr, "nope.mesh.", mdns.TypeA)
	exchange(t, "udp", addr, "example.com.", mdns.TypeA)

	assert.Equal(t, 1.0, testutil.ToFloat64(s.metrics.queries.WithLabelValues("udp", "NOERROR")))
	assert.Equal(t, 1.0, testutil.ToFloat64(s.metrics.queries.WithLabelValues("tcp", "NXDOMAIN")))
	assert.Equal(t, 1.0, testutil.ToFloat64(s.metrics.queries.WithLabelValues("udp", "REFUSED")))

	_, err := New(Options{Registerer: reg})
	require.ErrorContains(t, err, "already registered")
}
