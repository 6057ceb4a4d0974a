package test

import (
	"context"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/stretchr/testify/require"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/meshgate/meshgate/ca/servingtls"
)

// sotwClient speaks ADS state-of-the-world the way Envoy does: it subscribes to listeners and
// clusters, ACKs every response with its version and nonce, and NACKs on request.
type sotwClient struct {
	t      *testing.T
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	node   *corev3.Node
	recv   chan *discoveryv3.DiscoveryResponse
	// held keeps responses of other types that arrived while waiting for one type.
	held []*discoveryv3.DiscoveryResponse
	// cancel ends the stream, as an Envoy that goes away does.
	cancel context.CancelFunc
}

func (c *sotwClient) close() { c.cancel() }

// withToken attaches a dataplane token as the gRPC metadata Envoy sends from its bootstrap's
// initial_metadata; an empty token attaches nothing.
func withToken(ctx context.Context, token string) context.Context {
	if token == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// xdsCAs maps a running control plane's xDS address to the CA its certificate chains to, so
// dialADS verifies the server the way Envoy does from its bootstrap; an address not in it (a
// control plane run with --xds-insecure) is dialled in plain text.
var xdsCAs sync.Map

func dialADS(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	creds := insecure.NewCredentials()
	if caPEM, ok := xdsCAs.Load(addr); ok {
		cfg, err := servingtls.ClientConfig(caPEM.([]byte), addr)
		require.NoError(t, err)
		creds = credentials.NewTLS(cfg)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// newSotW opens a stream as node, presenting token as Envoy does from its bootstrap.
func newSotW(t *testing.T, conn *grpc.ClientConn, node, token string) *sotwClient {
	t.Helper()
	ctx, cancel := context.WithCancel(withToken(context.Background(), token))
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	require.NoError(t, err)
	c := &sotwClient{t: t, stream: stream, node: &corev3.Node{Id: node}, recv: make(chan *discoveryv3.DiscoveryResponse, 100), cancel: cancel}
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

func (c *sotwClient) send(req *discoveryv3.DiscoveryRequest) {
	c.t.Helper()
	req.Node = c.node
	require.NoError(c.t, c.stream.Send(req))
}

func (c *sotwClient) subscribe(typeURL string, names ...string) {
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: typeURL, ResourceNames: names})
}

func (c *sotwClient) ack(resp *discoveryv3.DiscoveryResponse, names ...string) {
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: resp.TypeUrl, VersionInfo: resp.VersionInfo, ResponseNonce: resp.Nonce, ResourceNames: names})
}

func (c *sotwClient) nack(resp *discoveryv3.DiscoveryResponse, lastGood string, names ...string) {
	c.send(&discoveryv3.DiscoveryRequest{
		TypeUrl: resp.TypeUrl, VersionInfo: lastGood, ResponseNonce: resp.Nonce, ResourceNames: names,
		ErrorDetail: &statuspb.Status{Code: 3, Message: "rejected by test"},
	})
}

// next waits for the next response of typeURL, failing after timeout.
func (c *sotwClient) next(typeURL string, timeout time.Duration) *discoveryv3.DiscoveryResponse {
	c.t.Helper()
	for i, resp := range c.held {
		if resp.TypeUrl == typeURL {
			c.held = append(c.held[:i], c.held[i+1:]...)
			return resp
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case resp, ok := <-c.recv:
			require.True(c.t, ok, "stream closed")
			if resp.TypeUrl == typeURL {
				return resp
			}
			c.held = append(c.held, resp)
		case <-deadline:
			c.t.Fatalf("no %s response within %s", typeURL, timeout)
		}
	}
}

// quiet asserts that nothing at all arrives within d.
func (c *sotwClient) quiet(d time.Duration) {
	c.t.Helper()
	if len(c.held) > 0 {
		c.t.Fatalf("unexpected push: %s version %s", c.held[0].TypeUrl, c.held[0].VersionInfo)
	}
	select {
	case resp := <-c.recv:
		c.t.Fatalf("unexpected push: %s version %s", resp.TypeUrl, resp.VersionInfo)
	case <-time.After(d):
	}
}

// drain returns every response that arrives within d (and any held).
func (c *sotwClient) drain(d time.Duration) []*discoveryv3.DiscoveryResponse {
	out := c.held
	c.held = nil
	deadline := time.After(d)
	for {
		select {
		case resp, ok := <-c.recv:
			if !ok {
				return out
			}
			out = append(out, resp)
		case <-deadline:
			return out
		}
	}
}

// count drains for d and returns how many responses arrived.
func (c *sotwClient) count(d time.Duration) int {
	n := len(c.held)
	c.held = nil
	deadline := time.After(d)
	for {
		select {
		case <-c.recv:
			n++
		case <-deadline:
			return n
		}
	}
}

// resourceNames returns the names of the resources in a response.
func resourceNames(t *testing.T, resp *discoveryv3.DiscoveryResponse) []string {
	t.Helper()
	var out []string
	for _, a := range resp.Resources {
		m, err := a.UnmarshalNew()
		require.NoError(t, err)
		out = append(out, cache.GetResourceName(m))
	}
	return out
}
