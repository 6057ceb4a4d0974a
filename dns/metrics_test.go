package dns

import (
	"testing"
	"time"

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

	// A query is counted once its answer is written, so the client may see the answer first.
	for _, c := range [][2]string{{"udp", "NOERROR"}, {"tcp", "NXDOMAIN"}, {"udp", "REFUSED"}} {
		assert.Eventually(t, func() bool {
			return testutil.ToFloat64(s.metrics.queries.WithLabelValues(c[0], c[1])) == 1
		}, time.Second, 5*time.Millisecond, "%s %s", c[0], c[1])
	}

	_, err := New(Options{Registerer: reg})
	require.ErrorContains(t, err, "already registered")
}
