package kds

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/store"
)

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
	// stableAfter: a session that lasted this long resets the backoff.
	stableAfter = 30 * time.Second
)

// ClientOptions configure a zone's side of KDS.
type ClientOptions struct {
	Zone string
	// Address is global's KDS host:port.
	Address string
	TLS     *tls.Config
	// Token returns the zone token; it is called on every connect so a replaced file is used.
	Token      func() (string, error)
	Store      store.Store
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// ClientStatus is the zone's view of its connection to global.
type ClientStatus struct {
	Connected bool      `json:"connected"`
	LastSync  time.Time `json:"lastSync,omitzero"`
	LastError string    `json:"lastError,omitempty"`
}

// Client keeps a zone's two KDS streams to global up.
type Client struct {
	opts    ClientOptions
	log     *slog.Logger
	metrics *metrics
	conn    *grpc.ClientConn

	syncOnce sync.Once
	synced   chan struct{}

	mu     sync.Mutex
	status ClientStatus

	// onGlobalResponse, when set (tests), sees every response from global before it is applied.
	onGlobalResponse func(*discovery.DeltaDiscoveryResponse)
}

func NewClient(opts ClientOptions) (*Client, error) {
	switch {
	case opts.Zone == "" || opts.Address == "":
		return nil, errors.New("kds: a client needs its zone and global's address")
	case opts.TLS == nil:
		return nil, errors.New("kds: a client needs TLS settings (global's CA)")
	case opts.Token == nil || opts.Store == nil:
		return nil, errors.New("kds: a client needs a token source and a store")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer, "zone")
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(opts.Address,
		grpc.WithTransportCredentials(credentials.NewTLS(opts.TLS)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}))
	if err != nil {
		return nil, fmt.Errorf("kds: dialing global at %s: %w", opts.Address, err)
	}
	return &Client{opts: opts, log: log.With("component", "kds-client", "zone", opts.Zone), metrics: m, conn: conn,
		synced: make(chan struct{})}, nil
}

// Synced is closed after the first full reconcile of every kind global sends.
func (c *Client) Synced() <-chan struct{} { return c.synced }

func (c *Client) Status() ClientStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func (c *Client) setStatus(f func(*ClientStatus)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.status)
}

// Run keeps both streams up until ctx ends, reconnecting with jittered exponential backoff.
// The zone keeps serving what it last received while global is away.
func (c *Client) Run(ctx context.Context) error {
	defer c.conn.Close()
	backoff := minBackoff
	for {
		start := time.Now()
		err := c.session(ctx)
		c.setStatus(func(s *ClientStatus) { s.Connected = false })
		c.metrics.connected.WithLabelValues(c.opts.Zone).Set(0)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			c.setStatus(func(s *ClientStatus) { s.LastError = err.Error() })
			c.log.Warn("KDS session to global ended", "error", err, "retry", backoff)
		}
		if time.Since(start) > stableAfter {
			backoff = minBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

func (c *Client) authContext(ctx context.Context) (context.Context, error) {
	tok, err := c.opts.Token()
	if err != nil {
		return nil, fmt.Errorf("reading the zone token: %w", err)
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+strings.TrimSpace(tok)), nil
}

func (c *Client) session(ctx context.Context) error {
	ctx, err := c.authContext(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g2z, err := c.conn.NewStream(ctx, &serviceDesc.Streams[0], methodGlobalToZone)
	if err != nil {
		return fmt.Errorf("opening GlobalToZoneSync: %w", err)
	}
	z2g, err := c.conn.NewStream(ctx, &serviceDesc.Streams[1], methodZoneToGlobal)
	if err != nil {
		return fmt.Errorf("opening ZoneToGlobalSync: %w", err)
	}
	snd := &sender{st: c.opts.Store, kinds: zoneToGlobalKinds,
		include: func(rec store.Record) bool { return rec.Origin != OriginGlobal },
		send:    func(r *discovery.DeltaDiscoveryResponse) error { return z2g.SendMsg(r) },
		sent:    func(n int) { c.metrics.sent.WithLabelValues(c.opts.Zone).Add(float64(n)) }}
	return race(ctx, func(ctx context.Context) error { return c.globalToZone(ctx, g2z) },
		func(ctx context.Context) error { return c.zoneToGlobalSend(ctx, snd) },
		func(ctx context.Context) error { return c.zoneToGlobalAcks(z2g, snd) })
}

// globalToZone subscribes to every kind, then applies global's responses and answers each.
func (c *Client) globalToZone(ctx context.Context, s grpc.ClientStream) error {
	for _, kind := range globalToZoneKinds {
		if err := s.SendMsg(&discovery.DeltaDiscoveryRequest{TypeUrl: typeURL(kind), ResourceNamesSubscribe: []string{"*"}}); err != nil {
			return fmt.Errorf("subscribing to %s: %w", kind, err)
		}
	}
	rcv := &receiver{st: c.opts.Store, kinds: globalToZoneKinds, origin: OriginGlobal}
	pending := map[string]bool{}
	for _, kind := range globalToZoneKinds {
		pending[typeURL(kind)] = true
	}
	for {
		resp := new(discovery.DeltaDiscoveryResponse)
		if err := s.RecvMsg(resp); err != nil {
			return fmt.Errorf("GlobalToZoneSync: %w", err)
		}
		c.setStatus(func(s *ClientStatus) { s.Connected = true })
		c.metrics.connected.WithLabelValues(c.opts.Zone).Set(1)
		if c.onGlobalResponse != nil {
			c.onGlobalResponse(resp)
		}
		n, err := rcv.apply(ctx, resp)
		if err != nil {
			c.metrics.nacks.WithLabelValues(c.opts.Zone, "zone").Inc()
			c.setStatus(func(s *ClientStatus) { s.LastError = err.Error() })
			c.log.Warn("refused resources from global", "type", resp.GetTypeUrl(), "error", err)
		} else {
			c.metrics.received.WithLabelValues(c.opts.Zone).Add(float64(n))
			c.setStatus(func(s *ClientStatus) { s.LastSync = time.Now() })
			if strings.HasPrefix(resp.GetSystemVersionInfo(), fullPrefix) {
				delete(pending, resp.GetTypeUrl())
				if len(pending) == 0 {
					c.syncOnce.Do(func() { close(c.synced) })
				}
			}
		}
		if err := s.SendMsg(ackFor(resp, err)); err != nil {
			return fmt.Errorf("GlobalToZoneSync: %w", err)
		}
	}
}

func (c *Client) zoneToGlobalSend(ctx context.Context, snd *sender) error {
	if err := snd.run(ctx); err != nil {
		return fmt.Errorf("ZoneToGlobalSync: %w", err)
	}
	return nil
}

// zoneToGlobalAcks reads global's subscriptions and ACKs/NACKs of the zone's resources.
func (c *Client) zoneToGlobalAcks(s grpc.ClientStream, snd *sender) error {
	for {
		req := new(discovery.DeltaDiscoveryRequest)
		if err := s.RecvMsg(req); err != nil {
			return fmt.Errorf("ZoneToGlobalSync: %w", err)
		}
		if d := req.GetErrorDetail(); d != nil {
			snd.nacked(req.GetTypeUrl())
			c.metrics.nacks.WithLabelValues(c.opts.Zone, "global").Inc()
			c.setStatus(func(s *ClientStatus) { s.LastError = "global NACKed " + req.GetTypeUrl() + ": " + d.GetMessage() })
			c.log.Warn("global refused zone resources", "type", req.GetTypeUrl(), "error", d.GetMessage())
		}
	}
}

// SignIntermediate asks global to sign this zone's intermediate CA for a mesh's backend and
// returns the chain (intermediate first).
func (c *Client) SignIntermediate(ctx context.Context, mesh, backend string, csrPEM []byte) ([]byte, error) {
	ctx, err := c.authContext(ctx)
	if err != nil {
		return nil, err
	}
	in, err := marshalJSON(signRequest{Mesh: mesh, Backend: backend, CSRPEM: csrPEM})
	if err != nil {
		return nil, err
	}
	out := new(wrapperspb.BytesValue)
	if err := c.conn.Invoke(ctx, methodSign, in, out); err != nil {
		return nil, fmt.Errorf("global signing zone %s's intermediate for mesh %s: %w", c.opts.Zone, mesh, err)
	}
	var resp signResponse
	if err := unmarshalJSON(out, &resp); err != nil {
		return nil, err
	}
	return resp.ChainPEM, nil
}
