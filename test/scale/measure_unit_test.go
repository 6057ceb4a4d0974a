package scale

import (
	"strings"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestParseMetrics(t *testing.T) {
	s, err := parseMetrics(strings.NewReader(`# HELP meshgate_xds_generation_seconds Time to ...
# TYPE meshgate_xds_generation_seconds histogram
meshgate_xds_generation_seconds_bucket{le="0.001"} 0
meshgate_xds_generation_seconds_sum 3.5
meshgate_xds_generation_seconds_count 7
process_cpu_seconds_total 12.25
`))
	require.NoError(t, err)
	assert.Equal(t, sample{count: 7, sum: 3.5, cpu: 12.25}, s)
	mean, n, cpu := s.since(sample{count: 5, sum: 2.5, cpu: 10})
	assert.Equal(t, 500*time.Millisecond, mean)
	assert.EqualValues(t, 2, n)
	assert.InDelta(t, 2.25, cpu, 1e-9)

	_, err = parseMetrics(strings.NewReader("process_cpu_seconds_total 1\n"))
	assert.ErrorContains(t, err, "lacks")
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	l := sortedLatencies(d)
	assert.Equal(t, 50*time.Millisecond, l.pct(0.5))
	assert.Equal(t, 99*time.Millisecond, l.pct(0.99))
	assert.Equal(t, 100*time.Millisecond, l.max())
	assert.Equal(t, 7*time.Millisecond, sortedLatencies([]time.Duration{7 * time.Millisecond}).pct(0.99))
	assert.Zero(t, latencies(nil).pct(0.5))
}

// TestResourceNames: the load process reads only field 1 of EDS, RDS and SDS resources; it
// must find the name whatever precedes it on the wire.
func TestResourceNames(t *testing.T) {
	cla, err := anypb.New(&endpointv3.ClusterLoadAssignment{ClusterName: "svc-03", Endpoints: []*endpointv3.LocalityLbEndpoints{{LoadBalancingWeight: wrapperspb.UInt32(3)}}})
	require.NoError(t, err)
	rc, err := anypb.New(&routev3.RouteConfiguration{Name: "edge:HTTP:8080:*", VirtualHosts: []*routev3.VirtualHost{{Name: "vh", Domains: []string{"*"}}}})
	require.NoError(t, err)
	secret, err := anypb.New(&tlsv3.Secret{Name: "mesh_ca:secret:default"})
	require.NoError(t, err)
	// A field before the name: encoders may order fields as they like.
	reordered := append(protoField(t, &routev3.RouteConfiguration{VirtualHosts: []*routev3.VirtualHost{{Name: "vh"}}}), protoField(t, &routev3.RouteConfiguration{Name: "late"})...)
	names, err := resourceNames([]*anypb.Any{cla, rc, secret, {TypeUrl: rc.TypeUrl, Value: reordered}})
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"svc-03": true, "edge:HTTP:8080:*": true, "mesh_ca:secret:default": true, "late": true}, names)

	_, err = resourceNames([]*anypb.Any{{TypeUrl: rc.TypeUrl, Value: []byte{0x0a, 0x05, 'a'}}})
	assert.Error(t, err, "truncated name")
	_, err = resourceNames([]*anypb.Any{{TypeUrl: rc.TypeUrl}})
	assert.ErrorContains(t, err, "no name")
}

func protoField(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	return b
}
