package server

import (
	"context"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A stream that never sends is ended by the first-request timeout with DeadlineExceeded, on
// both protocols; one that is admitted in time lives on past it.
func TestFirstRequestTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	h := newHarness(t, func(o *Options) { o.FirstRequestTimeout = timeout })
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(h.conn)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()

	silent, err := ads.StreamAggregatedResources(ctx)
	require.NoError(t, err)
	silentDelta, err := ads.DeltaAggregatedResources(ctx)
	require.NoError(t, err)
	start := time.Now()
	_, err = silent.Recv()
	require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
	require.Less(t, time.Since(start), waitFor/2)
	_, err = silentDelta.Recv()
	require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
	require.Equal(t, 2.0, h.metric(t, "meshgate_xds_streams_unadmitted_ended_total"))

	// An admitted stream is not affected: it still gets a push after the deadline has passed.
	live, err := ads.StreamAggregatedResources(ctx)
	require.NoError(t, err)
	require.NoError(t, live.Send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "m.dp"}, TypeUrl: resource.ClusterType}))
	time.Sleep(3 * timeout)
	h.set(t, "m.dp", gen{cds: 1})
	resp, err := live.Recv()
	require.NoError(t, err)
	require.Equal(t, resource.ClusterType, resp.GetTypeUrl())
}
