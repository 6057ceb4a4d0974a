package test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
)

// haTypes are the four types a gateway's Envoy holds, in the order Envoy asks for them.
var haTypes = []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.EndpointType, resourcev3.RouteType}

// haSubscriptions are the names a gateway of the example subscribes to per type (nil: all).
var haSubscriptions = map[string][]string{
	resourcev3.EndpointType: {"api", "frontend"},
	resourcev3.RouteType:    {"edge-gateway:HTTP:8080:*"},
}

// haClient is one dataplane's ADS client that behaves like Envoy with one endpoint per replica
// in its xDS cluster: when its stream ends it opens a new one on another replica, asking for
// each type with the version it holds, and ACKs everything. It records what it held when its
// stream ended and the first response of each type on the new stream.
type haClient struct {
	node, token string
	// order is the replicas this client tries, first the one it starts on.
	order []int

	mu       sync.Mutex
	at       int // index into order of the replica of the current stream
	held     map[string]*discoveryv3.DiscoveryResponse
	initial  map[string]string // versions when first fully served
	sessions int               // streams opened that were fully served
	// failover: what it held when its first served stream ended, and what followed;
	// servedAgainAt is set by haAwaitServedAgain.
	lostAt        time.Time
	heldAtLoss    map[string]*discoveryv3.DiscoveryResponse
	firstAfter    map[string]*discoveryv3.DiscoveryResponse
	servedAgainAt time.Time
	losses        int
	failedOpens   int
	lastErr       error // why the last stream ended, for failure messages

	served chan struct{} // closed when first fully served
}

func newHAClient(node, token string, order []int) *haClient {
	return &haClient{node: node, token: token, order: order, held: map[string]*discoveryv3.DiscoveryResponse{},
		firstAfter: map[string]*discoveryv3.DiscoveryResponse{}, served: make(chan struct{})}
}

// replica is the replica of the current (or next) stream.
func (c *haClient) replica() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order[c.at]
}

// run keeps a stream open until ctx ends, moving to the next replica whenever one ends. conns
// are the gRPC connections per replica; a client uses one of them, as Envoy multiplexes its
// streams over one HTTP/2 connection per endpoint.
func (c *haClient) run(ctx context.Context, conns [][]*grpc.ClientConn, pick int) {
	for ctx.Err() == nil {
		r := c.replica()
		err := c.session(ctx, conns[r][pick%len(conns[r])])
		if ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		c.lastErr = err
		if err == errHAOpen {
			c.failedOpens++
		}
		if c.sessions > 0 && c.lostAt.IsZero() {
			c.lostAt = time.Now()
			c.heldAtLoss = make(map[string]*discoveryv3.DiscoveryResponse, len(c.held))
			for k, v := range c.held {
				c.heldAtLoss[k] = v
			}
		}
		if c.sessions > 0 && err != errHAOpen {
			c.losses++
		}
		c.at = (c.at + 1) % len(c.order)
		c.mu.Unlock()
		select { // Envoy's reconnect back-off starts at about this.
		case <-ctx.Done():
		case <-time.After(25 * time.Millisecond):
		}
	}
}

var errHAOpen = errors.New("stream not opened")

func (c *haClient) session(ctx context.Context, conn *grpc.ClientConn) error {
	sctx, cancel := context.WithCancel(withToken(ctx, c.token))
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(sctx)
	if err != nil {
		return errHAOpen
	}
	node := &corev3.Node{Id: c.node}
	c.mu.Lock()
	returning := c.sessions > 0
	reqs := make([]*discoveryv3.DiscoveryRequest, 0, len(haTypes))
	for _, typ := range haTypes {
		req := &discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typ, ResourceNames: haSubscriptions[typ]}
		if held := c.held[typ]; held != nil {
			req.VersionInfo = held.VersionInfo // as Envoy asks on a new stream
		}
		reqs = append(reqs, req)
	}
	c.mu.Unlock()
	for _, req := range reqs {
		if err := stream.Send(req); err != nil {
			return err
		}
	}
	got := map[string]bool{}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return err
		}
		typ := resp.GetTypeUrl()
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typ, VersionInfo: resp.GetVersionInfo(),
			ResponseNonce: resp.GetNonce(), ResourceNames: haSubscriptions[typ]}); err != nil {
			return err
		}
		c.mu.Lock()
		if returning && c.firstAfter[typ] == nil {
			c.firstAfter[typ] = resp
		}
		c.held[typ] = resp
		got[typ] = true
		if len(got) == len(haTypes) && !got["served"] {
			got["served"] = true
			c.sessions++
			if c.initial == nil {
				c.initial = c.versionsLocked()
				close(c.served)
			}
		}
		c.mu.Unlock()
	}
}

func (c *haClient) versionsLocked() map[string]string {
	out := make(map[string]string, len(c.held))
	for k, v := range c.held {
		out[k] = v.GetVersionInfo()
	}
	return out
}

func (c *haClient) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var after []string
	for typ, r := range c.firstAfter {
		after = append(after, typ[strings.LastIndex(typ, ".")+1:]+"="+r.GetVersionInfo())
	}
	return fmt.Sprintf("%s (replica %d, %d served streams, %d streams not opened, holds %v, got after failing over %v, last stream ended: %v)",
		c.node, c.order[c.at]+1, c.sessions, c.failedOpens, c.versionsLocked(), after, c.lastErr)
}

// haFailover is a copy of what a client recorded about failing over, to check without its lock
// (a failed check must not leave the client's goroutine blocked on it).
type haFailover struct {
	replica, losses        int
	heldAtLoss, firstAfter map[string]*discoveryv3.DiscoveryResponse
}

func (c *haClient) failover() haFailover {
	c.mu.Lock()
	defer c.mu.Unlock()
	return haFailover{replica: c.order[c.at], losses: c.losses, heldAtLoss: maps.Clone(c.heldAtLoss), firstAfter: maps.Clone(c.firstAfter)}
}

func (c *haClient) versions() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.versionsLocked()
}

// haRoutePaths is the set of /ha/ paths an RDS response routes: one per route the writes added
// to the edge gateway.
func haRoutePaths(resp *discoveryv3.DiscoveryResponse) (map[string]bool, error) {
	out := map[string]bool{}
	for _, a := range resp.GetResources() {
		var rc routev3.RouteConfiguration
		if err := a.UnmarshalTo(&rc); err != nil {
			return nil, fmt.Errorf("route configuration: %w", err)
		}
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				if p := r.GetMatch().GetPath(); strings.HasPrefix(p, "/ha/") {
					out[p] = true
				}
			}
		}
	}
	return out, nil
}

// servedAgainBy reports whether the client's new stream is fully served by the replica whose
// view of it (GET .../inspect) is status: every type either arrived on the new stream or is, in
// the replica's snapshot for the node, the version the client asked with. A replica answers a
// returning client only with what changed, so an unchanged type never arrives.
func (c *haClient) servedAgainBy(status haInspection) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lostAt.IsZero() || status.XDS.Streams == 0 || status.XDS.Versions == nil {
		return false
	}
	for _, typ := range haTypes {
		if c.firstAfter[typ] == nil && status.XDS.Versions[typ] != c.heldAtLoss[typ].GetVersionInfo() {
			return false
		}
	}
	return true
}

// haInspection is the part of GET /meshes/{mesh}/dataplanes/{name}/inspect the test reads.
type haInspection struct {
	XDS struct {
		Streams  int               `json:"streams"`
		Versions map[string]string `json:"versions"`
	} `json:"xds"`
}
