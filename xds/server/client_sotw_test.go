package server

import (
	"context"
	"slices"
	"sync"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
)

type sotwClient struct {
	*recorder
	t      *testing.T
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	sendMu sync.Mutex
	// subs is touched only by the receive loop once it runs.
	subs map[string]*sotwSub
}

type sotwSub struct {
	names     []string
	requested bool   // names have been asked for
	accepted  string // version_info of the last ACKed response
	nonce     string // of the last response received
}

// dialSotw opens a state-of-the-world ADS stream as node and subscribes like Envoy: clusters and
// listeners by wildcard, with the node on the first request only.
func dialSotw(t *testing.T, h *harness, node string) xdsClient {
	t.Helper()
	c := &sotwClient{recorder: newRecorder(context.Background()), t: t, subs: map[string]*sotwSub{}}
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(h.conn).StreamAggregatedResources(c.ctx)
	if err != nil {
		t.Fatalf("opening ADS stream: %v", err)
	}
	c.stream = stream
	c.subs[resource.ClusterType] = &sotwSub{}
	c.subs[resource.ListenerType] = &sotwSub{}
	c.send(&discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: node}, TypeUrl: resource.ClusterType})
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: resource.ListenerType})
	go c.loop()
	t.Cleanup(c.close)
	return c
}

func (c *sotwClient) send(req *discoveryv3.DiscoveryRequest) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	// A failed send shows up as the stream's end in the receive loop.
	_ = c.stream.Send(req)
}

func (c *sotwClient) loop() {
	defer close(c.done)
	for {
		resp, err := c.stream.Recv()
		if err != nil {
			c.err = err
			return
		}
		c.handle(resp)
	}
}

func (c *sotwClient) handle(resp *discoveryv3.DiscoveryResponse) {
	typ := resp.GetTypeUrl()
	sub := c.subs[typ]
	if sub == nil {
		sub = &sotwSub{}
		c.subs[typ] = sub
	}
	sub.nonce = resp.GetNonce()
	e := event{typeURL: typ, version: resp.GetVersionInfo(), names: resourceNames(c.t, resp.GetResources())}
	if msg := c.verdict(typ, resp.GetVersionInfo()); msg != "" {
		e.nacked = true
		c.send(&discoveryv3.DiscoveryRequest{
			TypeUrl: typ, VersionInfo: sub.accepted, ResponseNonce: sub.nonce, ResourceNames: sub.names,
			ErrorDetail: &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: msg},
		})
		c.emit(e)
		return
	}
	sub.accepted = resp.GetVersionInfo()
	if dep, names := dependent(typ); dep != "" {
		c.subscribe(dep, names(c.t, resp.GetResources()))
	}
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: typ, VersionInfo: sub.accepted, ResponseNonce: sub.nonce, ResourceNames: sub.names})
	c.emit(e)
}

// subscribe asks for names of typ when they differ from the current subscription.
func (c *sotwClient) subscribe(typ string, names []string) {
	sub := c.subs[typ]
	if sub == nil {
		sub = &sotwSub{}
		c.subs[typ] = sub
	}
	if sub.requested && slices.Equal(sub.names, names) {
		return
	}
	sub.names, sub.requested = names, true
	c.send(&discoveryv3.DiscoveryRequest{TypeUrl: typ, VersionInfo: sub.accepted, ResponseNonce: sub.nonce, ResourceNames: names})
}
