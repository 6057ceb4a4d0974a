package test

import (
	"context"
	"net/http"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deltaClient speaks incremental ADS as Envoy does.
type deltaClient struct {
	t      *testing.T
	stream discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	node   *corev3.Node
	recv   chan *discoveryv3.DeltaDiscoveryResponse
}

func newDelta(t *testing.T, addr, node, token string) *deltaClient {
	t.Helper()
	ctx, cancel := context.WithCancel(withToken(context.Background(), token))
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(dialADS(t, addr)).DeltaAggregatedResources(ctx)
	require.NoError(t, err)
	c := &deltaClient{t: t, stream: stream, node: &corev3.Node{Id: node}, recv: make(chan *discoveryv3.DeltaDiscoveryResponse, 100)}
	go func() {
		defer close(c.recv)
		for {
			resp, err := stream.Recv()
			if err != nil {
				return
			}
			c.recv <- resp
		}
	}()
	return c
}

func (c *deltaClient) send(req *discoveryv3.DeltaDiscoveryRequest) {
	c.t.Helper()
	req.Node = c.node
	require.NoError(c.t, c.stream.Send(req))
}

func (c *deltaClient) next(typeURL string) *discoveryv3.DeltaDiscoveryResponse {
	c.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case resp, ok := <-c.recv:
			require.True(c.t, ok, "stream closed")
			if resp.TypeUrl == typeURL {
				return resp
			}
		case <-deadline:
			c.t.Fatalf("no delta %s response within %s", typeURL, wait)
		}
	}
}

func (c *deltaClient) ack(resp *discoveryv3.DeltaDiscoveryResponse) {
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resp.TypeUrl, ResponseNonce: resp.Nonce})
}

func deltaNames(resp *discoveryv3.DeltaDiscoveryResponse) []string {
	var out []string
	for _, r := range resp.Resources {
		out = append(out, r.Name)
	}
	return out
}

// TestSeedExampleOverDeltaADS receives the example over an incremental stream and then only
// the changed route configuration when a route changes.
func TestSeedExampleOverDeltaADS(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", exampleYAML(t))
	require.Equal(t, http.StatusOK, code, string(body))

	c := newDelta(t, cp.addrs.XDS, gatewayNode, tokenFor(t, cp, "default", "gateway-instance-1"))
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.ClusterType})
	cds := c.next(resourcev3.ClusterType)
	c.ack(cds)
	assert.ElementsMatch(t, []string{"api", "frontend"}, deltaNames(cds))
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.EndpointType, ResourceNamesSubscribe: deltaNames(cds)})
	eds := c.next(resourcev3.EndpointType)
	c.ack(eds)
	assert.ElementsMatch(t, []string{"api", "frontend"}, deltaNames(eds))
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.ListenerType})
	lds := c.next(resourcev3.ListenerType)
	c.ack(lds)
	assert.Equal(t, []string{"edge-gateway:HTTP:8080"}, deltaNames(lds))
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resourcev3.RouteType, ResourceNamesSubscribe: []string{"edge-gateway:HTTP:8080:*"}})
	rds := c.next(resourcev3.RouteType)
	c.ack(rds)
	require.Equal(t, []string{"edge-gateway:HTTP:8080:*"}, deltaNames(rds))

	code, body = cp.call(t, http.MethodPut, "/meshes/default/meshgatewayroutes/api-route", "application/yaml", []byte(changedAPIRoute))
	require.Equal(t, http.StatusOK, code, string(body))
	rds2 := c.next(resourcev3.RouteType)
	assert.Equal(t, []string{"edge-gateway:HTTP:8080:*"}, deltaNames(rds2))
	assert.NotEqual(t, rds.Resources[0].Version, rds2.Resources[0].Version)
	c.ack(rds2)
	select {
	case resp := <-c.recv:
		t.Fatalf("unexpected delta push after a route change: %s %v", resp.TypeUrl, deltaNames(resp))
	case <-time.After(quietWindow):
	}
}
