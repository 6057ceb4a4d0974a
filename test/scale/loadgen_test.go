package scale

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/anypb"
)

// loadSpec is the load process's orders, one JSON line on its stdin. Closing stdin ends it.
type loadSpec struct {
	// XDS is the control plane's ADS address (plain-text gRPC).
	XDS string `json:"xds"`
	// Nodes are the node ids to connect as, `<mesh>.<name>`; a stream's index in events is its
	// index here.
	Nodes []string `json:"nodes"`
	// Each stream binds its own connection to source address 127.0.0.<FirstSource + i%Sources>,
	// so per-address connection limits see a fleet, not one host.
	FirstSource int `json:"firstSource"`
	Sources     int `json:"sources"`
	// DialConcurrency bounds how many streams are being opened at once (a fleet does not
	// start in the same microsecond; an unbounded burst would overflow the listen backlog).
	DialConcurrency int `json:"dialConcurrency"`
}

// loadEvent is one line of the load process's stdout.
type loadEvent struct {
	// E is "start" (T: when dialing began), "full" (stream I holds its full configuration for
	// the first time: CDS, LDS and every EDS, RDS and SDS name they reference received and
	// ACKed; Vs: the versions), "recv" (after that, a response of type Y at version V arrived
	// at T) or "err" (stream I failed: Err).
	E   string            `json:"e"`
	I   int               `json:"i,omitempty"`
	T   int64             `json:"t"`
	Y   string            `json:"y,omitempty"`
	V   string            `json:"v,omitempty"`
	Vs  map[string]string `json:"vs,omitempty"`
	Err string            `json:"err,omitempty"`
}

// typeNames are the short names events use for type URLs.
var typeNames = map[string]string{
	resourcev3.ClusterType:  "CDS",
	resourcev3.EndpointType: "EDS",
	resourcev3.ListenerType: "LDS",
	resourcev3.RouteType:    "RDS",
	resourcev3.SecretType:   "SDS",
}

// runLoad is the load process: it opens every stream, reports on out, and returns when in
// closes (or ends badly).
func runLoad(in io.Reader, out io.Writer) int {
	r := bufio.NewReaderSize(in, 1<<20)
	line, err := r.ReadBytes('\n')
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: reading the spec:", err)
		return 2
	}
	var spec loadSpec
	if err := json.Unmarshal(line, &spec); err != nil {
		fmt.Fprintln(os.Stderr, "load: spec:", err)
		return 2
	}
	if spec.Sources <= 0 || spec.FirstSource <= 0 || spec.FirstSource+spec.Sources > 255 || spec.DialConcurrency <= 0 {
		fmt.Fprintf(os.Stderr, "load: bad spec: sources %d from %d, dial concurrency %d\n", spec.Sources, spec.FirstSource, spec.DialConcurrency)
		return 2
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan loadEvent, 4096)
	written := make(chan struct{})
	go writeEvents(out, events, written)

	events <- loadEvent{E: "start", T: time.Now().UnixNano()}
	dialSlots := make(chan struct{}, spec.DialConcurrency)
	var wg sync.WaitGroup
	for i, node := range spec.Nodes {
		src := net.IPv4(127, 0, 0, byte(spec.FirstSource+i%spec.Sources))
		c := &adsClient{idx: i, node: node, events: events, subs: map[string]*subscription{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.run(ctx, spec.XDS, src, dialSlots); err != nil && ctx.Err() == nil {
				events <- loadEvent{E: "err", I: c.idx, T: time.Now().UnixNano(), Err: fmt.Sprintf("%s: %v", c.node, err)}
			}
		}()
	}
	// The parent closes stdin when it is done (or dies): then end every stream.
	_, _ = io.Copy(io.Discard, r)
	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		fmt.Fprintln(os.Stderr, "load: streams did not end within 10s of cancel")
		return 1
	}
	close(events)
	<-written
	return 0
}

// writeEvents encodes events as JSON lines, flushing whenever it has caught up, so the parent
// sees each event promptly but a burst costs few writes.
func writeEvents(out io.Writer, events <-chan loadEvent, done chan<- struct{}) {
	defer close(done)
	w := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(w)
	for ev := range events {
		if err := enc.Encode(ev); err != nil {
			fmt.Fprintln(os.Stderr, "load: writing an event:", err)
			return
		}
		if len(events) == 0 {
			if err := w.Flush(); err != nil {
				fmt.Fprintln(os.Stderr, "load: flushing events:", err)
				return
			}
		}
	}
	_ = w.Flush()
}

// subscription is one type's state on a stream, as Envoy keeps it.
type subscription struct {
	version, nonce string
	// names are what is subscribed to (sorted); nil for the wildcard types CDS and LDS.
	names []string
	// got: a response has arrived; have: the names in the last one (until full).
	got  bool
	have map[string]bool
}

// adsClient is one dataplane: one gRPC connection and one SotW ADS stream, subscribing the way
// Envoy does (CDS and LDS wildcard, then the EDS, RDS and SDS names they reference) and ACKing
// every response. It never NACKs.
type adsClient struct {
	idx    int
	node   string
	events chan<- loadEvent
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	subs   map[string]*subscription
	// secrets referenced by clusters and by listeners: SDS subscribes to their union.
	clusterSecrets, listenerSecrets []string
	sentNode                        bool
	full                            bool
}

func (c *adsClient) run(ctx context.Context, xds string, src net.IP, slots chan struct{}) error {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil
	}
	released := false
	release := func() {
		if !released {
			released = true
			<-slots
		}
	}
	defer release()
	dialer := func(ctx context.Context, addr string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 10 * time.Second}
		return d.DialContext(ctx, "tcp", addr)
	}
	// One connection per dataplane, as Envoy holds one to its xDS cluster.
	conn, err := grpc.NewClient("passthrough:///"+xds, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(dialer))
	if err != nil {
		return fmt.Errorf("gRPC client: %w", err)
	}
	defer conn.Close()
	// Waits for the connection as Envoy retries it; the parent's deadline for full
	// configuration bounds the wait (it then closes stdin, which cancels ctx).
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx, grpc.WaitForReady(true))
	if err != nil {
		return fmt.Errorf("opening the ADS stream: %w", err)
	}
	c.stream = stream
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		c.subs[typ] = &subscription{}
		if err := c.send(typ); err != nil {
			return err
		}
	}
	release()
	for {
		resp, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("receiving: %w", err)
		}
		at := time.Now().UnixNano()
		if err := c.handle(resp); err != nil {
			return err
		}
		if c.full {
			c.events <- loadEvent{E: "recv", I: c.idx, T: at, Y: typeNames[resp.TypeUrl], V: resp.VersionInfo}
			continue
		}
		if c.complete() {
			c.full = true
			vs := map[string]string{}
			for typ, s := range c.subs {
				if s.got {
					vs[typeNames[typ]] = s.version
				}
			}
			c.events <- loadEvent{E: "full", I: c.idx, T: time.Now().UnixNano(), Vs: vs}
		}
	}
}

// send sends typ's current request: its names, and the version and nonce last received (an
// ACK, or a subscription change).
func (c *adsClient) send(typ string) error {
	s := c.subs[typ]
	req := &discoveryv3.DiscoveryRequest{TypeUrl: typ, VersionInfo: s.version, ResponseNonce: s.nonce, ResourceNames: s.names}
	if !c.sentNode {
		// Envoy sends its node on the first request of a stream only.
		req.Node = &corev3.Node{Id: c.node}
		c.sentNode = true
	}
	if err := c.stream.Send(req); err != nil {
		return fmt.Errorf("sending a %s request: %w", typeNames[typ], err)
	}
	return nil
}

// handle takes one response: CDS and LDS update what EDS, RDS and SDS subscribe to (sent
// before the ACK, as Envoy asks for what new clusters and listeners need), then it is ACKed.
func (c *adsClient) handle(resp *discoveryv3.DiscoveryResponse) error {
	s := c.subs[resp.TypeUrl]
	if s == nil {
		return fmt.Errorf("a %s response, never subscribed to", resp.TypeUrl)
	}
	s.version, s.nonce, s.got = resp.VersionInfo, resp.Nonce, true
	switch resp.TypeUrl {
	case resourcev3.ClusterType:
		eds, secrets, err := clusterRefs(resp.Resources)
		if err != nil {
			return err
		}
		c.clusterSecrets = secrets
		if err := c.subscribe(resourcev3.EndpointType, eds); err != nil {
			return err
		}
		if err := c.subscribe(resourcev3.SecretType, union(c.clusterSecrets, c.listenerSecrets)); err != nil {
			return err
		}
	case resourcev3.ListenerType:
		rds, secrets, err := listenerRefs(resp.Resources)
		if err != nil {
			return err
		}
		c.listenerSecrets = secrets
		if err := c.subscribe(resourcev3.RouteType, rds); err != nil {
			return err
		}
		if err := c.subscribe(resourcev3.SecretType, union(c.clusterSecrets, c.listenerSecrets)); err != nil {
			return err
		}
	default:
		if !c.full {
			names, err := resourceNames(resp.Resources)
			if err != nil {
				return err
			}
			s.have = names
		}
	}
	return c.send(resp.TypeUrl)
}

// subscribe changes typ's names. An empty list is never sent for these types (in SotW it
// would mean everything); a type nothing references is simply not asked for.
func (c *adsClient) subscribe(typ string, names []string) error {
	s := c.subs[typ]
	if s == nil {
		s = &subscription{}
		c.subs[typ] = s
	}
	if len(names) == 0 || slices.Equal(s.names, names) {
		return nil
	}
	s.names = names
	return c.send(typ)
}

// complete: CDS and LDS arrived, and every referenced EDS, RDS and SDS name did too.
func (c *adsClient) complete() bool {
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		if !c.subs[typ].got {
			return false
		}
	}
	for _, typ := range []string{resourcev3.EndpointType, resourcev3.RouteType, resourcev3.SecretType} {
		s := c.subs[typ]
		if s == nil || len(s.names) == 0 {
			continue
		}
		if !s.got {
			return false
		}
		for _, n := range s.names {
			if !s.have[n] {
				return false
			}
		}
	}
	return true
}

// clusterRefs are the EDS service names of the EDS clusters and the SDS secrets of their
// transport sockets, each sorted.
func clusterRefs(resources []*anypb.Any) (eds, secrets []string, err error) {
	for _, a := range resources {
		var cl clusterv3.Cluster
		if err := a.UnmarshalTo(&cl); err != nil {
			return nil, nil, fmt.Errorf("decoding a cluster: %w", err)
		}
		if cl.GetType() == clusterv3.Cluster_EDS {
			name := cl.GetEdsClusterConfig().GetServiceName()
			if name == "" {
				name = cl.GetName()
			}
			eds = append(eds, name)
		}
		sockets := []*corev3.TransportSocket{cl.GetTransportSocket()}
		for _, m := range cl.GetTransportSocketMatches() {
			sockets = append(sockets, m.GetTransportSocket())
		}
		for _, ts := range sockets {
			if ts.GetTypedConfig() == nil {
				continue
			}
			var up tlsv3.UpstreamTlsContext
			if err := ts.GetTypedConfig().UnmarshalTo(&up); err != nil {
				return nil, nil, fmt.Errorf("cluster %s: decoding its transport socket: %w", cl.GetName(), err)
			}
			secrets = append(secrets, sdsNames(up.GetCommonTlsContext())...)
		}
	}
	return sortedSet(eds), sortedSet(secrets), nil
}

// listenerRefs are the RDS route configurations the listeners' HTTP connection managers name
// and the SDS secrets of their filter chains' transport sockets, each sorted.
func listenerRefs(resources []*anypb.Any) (rds, secrets []string, err error) {
	for _, a := range resources {
		var l listenerv3.Listener
		if err := a.UnmarshalTo(&l); err != nil {
			return nil, nil, fmt.Errorf("decoding a listener: %w", err)
		}
		chains := l.GetFilterChains()
		if d := l.GetDefaultFilterChain(); d != nil {
			chains = append(chains, d)
		}
		for _, fc := range chains {
			for _, f := range fc.GetFilters() {
				tc := f.GetTypedConfig()
				var hcm hcmv3.HttpConnectionManager
				if tc == nil || !tc.MessageIs(&hcm) {
					continue
				}
				if err := tc.UnmarshalTo(&hcm); err != nil {
					return nil, nil, fmt.Errorf("listener %s: decoding its HTTP connection manager: %w", l.GetName(), err)
				}
				if name := hcm.GetRds().GetRouteConfigName(); name != "" {
					rds = append(rds, name)
				}
			}
			if tc := fc.GetTransportSocket().GetTypedConfig(); tc != nil {
				var down tlsv3.DownstreamTlsContext
				if err := tc.UnmarshalTo(&down); err != nil {
					return nil, nil, fmt.Errorf("listener %s: decoding its transport socket: %w", l.GetName(), err)
				}
				secrets = append(secrets, sdsNames(down.GetCommonTlsContext())...)
			}
		}
	}
	return sortedSet(rds), sortedSet(secrets), nil
}

// sdsNames are the secrets a TLS context fetches over SDS.
func sdsNames(ctx *tlsv3.CommonTlsContext) []string {
	var out []string
	for _, s := range ctx.GetTlsCertificateSdsSecretConfigs() {
		out = append(out, s.GetName())
	}
	if s := ctx.GetValidationContextSdsSecretConfig(); s != nil {
		out = append(out, s.GetName())
	}
	if s := ctx.GetCombinedValidationContext().GetValidationContextSdsSecretConfig(); s != nil {
		out = append(out, s.GetName())
	}
	return out
}

// resourceNames are the names of the EDS, RDS or SDS resources in a response. Each of
// ClusterLoadAssignment, RouteConfiguration and Secret holds its name in field 1, so only that
// field is read: decoding whole route tables would make the load process, not the control
// plane, the bottleneck on a 2-core machine.
func resourceNames(resources []*anypb.Any) (map[string]bool, error) {
	out := make(map[string]bool, len(resources))
	for _, a := range resources {
		switch a.GetTypeUrl() {
		case resourcev3.EndpointType, resourcev3.RouteType, resourcev3.SecretType:
		default:
			return nil, fmt.Errorf("unexpected resource type %s", a.GetTypeUrl())
		}
		name, err := nameField(a.GetValue())
		if err != nil {
			return nil, fmt.Errorf("a %s resource: %w", typeNames[a.GetTypeUrl()], err)
		}
		out[name] = true
	}
	return out, nil
}

// nameField is field 1 (a string) of an encoded message.
func nameField(b []byte) (string, error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", protowire.ParseError(n)
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return "", protowire.ParseError(n)
			}
			return string(v), nil
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return "", protowire.ParseError(n)
		}
		b = b[n:]
	}
	return "", fmt.Errorf("no name (field 1)")
}

func union(a, b []string) []string { return sortedSet(append(slices.Clone(a), b...)) }

func sortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
