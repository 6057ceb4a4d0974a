package server

import (
	"context"
	"sort"
	"sync"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
)

type deltaClient struct {
	*recorder
	t      *testing.T
	stream discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	sendMu sync.Mutex
	// Touched only by the receive loop once it runs.
	have       map[string]map[string]*anypb.Any // accepted resources by type, then name
	subscribed map[string]map[string]bool       // explicit subscriptions by type
}

// dialDelta opens a delta ADS stream as node and subscribes like Envoy: clusters and listeners
// by (legacy) wildcard, with the node on the first request only.
func dialDelta(t *testing.T, h *harness, node string) xdsClient {
	t.Helper()
	c := &deltaClient{
		recorder: newRecorder(context.Background()), t: t,
		have: map[string]map[string]*anypb.Any{}, subscribed: map[string]map[string]bool{},
	}
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(h.conn).DeltaAggregatedResources(c.ctx)
	if err != nil {
		t.Fatalf("opening delta ADS stream: %v", err)
	}
	c.stream = stream
	c.send(&discoveryv3.DeltaDiscoveryRequest{Node: &corev3.Node{Id: node}, TypeUrl: resource.ClusterType})
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: resource.ListenerType})
	go c.loop()
	t.Cleanup(c.close)
	return c
}

func (c *deltaClient) send(req *discoveryv3.DeltaDiscoveryRequest) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	_ = c.stream.Send(req)
}

func (c *deltaClient) loop() {
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

func (c *deltaClient) handle(resp *discoveryv3.DeltaDiscoveryResponse) {
	typ := resp.GetTypeUrl()
	e := event{typeURL: typ, version: resp.GetSystemVersionInfo(), removed: resp.GetRemovedResources()}
	for _, r := range resp.GetResources() {
		e.names = append(e.names, r.GetName())
	}
	sort.Strings(e.names)
	if msg := c.verdict(typ, resp.GetSystemVersionInfo()); msg != "" {
		e.nacked = true
		c.send(&discoveryv3.DeltaDiscoveryRequest{
			TypeUrl: typ, ResponseNonce: resp.GetNonce(),
			ErrorDetail: &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: msg},
		})
		c.emit(e)
		return
	}
	have := c.have[typ]
	if have == nil {
		have = map[string]*anypb.Any{}
		c.have[typ] = have
	}
	for _, r := range resp.GetResources() {
		have[r.GetName()] = r.GetResource()
	}
	for _, n := range resp.GetRemovedResources() {
		delete(have, n)
	}
	if dep, names := dependent(typ); dep != "" {
		all := make([]*anypb.Any, 0, len(have))
		for _, a := range have {
			all = append(all, a)
		}
		c.subscribe(dep, names(c.t, all))
	}
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ, ResponseNonce: resp.GetNonce()})
	c.emit(e)
}

// subscribe sends the difference between names and the current subscription of typ.
func (c *deltaClient) subscribe(typ string, names []string) {
	cur := c.subscribed[typ]
	if cur == nil {
		cur = map[string]bool{}
		c.subscribed[typ] = cur
	}
	want := map[string]bool{}
	var add, drop []string
	for _, n := range names {
		want[n] = true
		if !cur[n] {
			add = append(add, n)
		}
	}
	for n := range cur {
		if !want[n] {
			drop = append(drop, n)
		}
	}
	if len(add) == 0 && len(drop) == 0 {
		return
	}
	c.subscribed[typ] = want
	sort.Strings(drop)
	c.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: add, ResourceNamesUnsubscribe: drop})
}
