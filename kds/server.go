package kds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/ca/zonetokens"
	"github.com/meshgate/meshgate/store"
)

// ServerOptions configure global's side of KDS.
type ServerOptions struct {
	Store store.Store
	// Verify authenticates a zone token and returns its zone (zonetokens.Issuer.Verify).
	Verify func(ctx context.Context, token string) (zone string, err error)
	// SignIntermediate signs a zone's intermediate CA for a mesh; nil answers Unimplemented.
	SignIntermediate func(ctx context.Context, zone, mesh, backend string, csrPEM []byte) ([]byte, error)
	Logger           *slog.Logger
	Registerer       prometheus.Registerer
}

// ZoneStatus is what global knows of one zone's KDS connection.
type ZoneStatus struct {
	Zone              string    `json:"zone"`
	Connected         bool      `json:"connected"`
	ConnectedAt       time.Time `json:"connectedAt,omitzero"`
	LastSync          time.Time `json:"lastSync,omitzero"`
	ResourcesReceived int64     `json:"resourcesReceived"`
	ResourcesSent     int64     `json:"resourcesSent"`
	LastError         string    `json:"lastError,omitempty"`
}

// Server is global's KDS service.
type Server struct {
	opts    ServerOptions
	log     *slog.Logger
	metrics *metrics

	mu    sync.Mutex
	zones map[string]*zoneState
}

type zoneState struct {
	status ZoneStatus
	// streams holds the cancel function of the current stream per method; a newer stream of
	// the same method replaces (cancels) it.
	streams map[string]*streamSlot
}

type streamSlot struct{ cancel context.CancelCauseFunc }

var errReplaced = errors.New("replaced by a newer stream from the same zone")

// errRevoked ends the streams of a zone that was revoked.
var errRevoked = errors.New("the zone was revoked on the global control plane")

// errTokenExpired ends a stream when the zone token that opened it expires: the zone
// reconnects with the token in its --zone-token-file, which must then be a new one.
var errTokenExpired = errors.New("the zone token expired; put a new one (meshgate token zone) in the zone's --zone-token-file")

func NewServer(opts ServerOptions) (*Server, error) {
	if opts.Store == nil || opts.Verify == nil {
		return nil, errors.New("kds: a server needs a store and a token verifier")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opts.Registerer, "global")
	if err != nil {
		return nil, err
	}
	return &Server{opts: opts, log: log.With("component", "kds-server"), metrics: m, zones: map[string]*zoneState{}}, nil
}

// Register adds the KDS service to a gRPC server (see GRPCServerOptions for its settings).
func (s *Server) Register(g *grpc.Server) { g.RegisterService(&serviceDesc, s) }

// Zones lists every zone that connected since the server started, by name.
func (s *Server) Zones() []ZoneStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ZoneStatus, 0, len(s.zones))
	for _, z := range s.zones {
		out = append(out, z.status)
	}
	slices.SortFunc(out, func(a, b ZoneStatus) int { return strings.Compare(a.Zone, b.Zone) })
	return out
}

// Disconnect ends every open stream of zone (after it was revoked: its token no longer
// verifies, so it cannot open another).
func (s *Server) Disconnect(zone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zones[zone]
	if z == nil {
		return 0
	}
	for _, slot := range z.streams {
		slot.cancel(errRevoked)
	}
	return len(z.streams)
}

func (s *Server) authenticate(ctx context.Context) (string, error) {
	zone, err := s.opts.Verify(ctx, bearer(ctx))
	if errors.Is(err, store.ErrUnavailable) {
		// The token could not be checked: the zone should retry, not give up on its token.
		return "", status.Errorf(codes.Unavailable, "checking the zone token: %v", err)
	}
	if err != nil {
		s.log.Warn("zone refused", "error", err)
		return "", status.Errorf(codes.Unauthenticated, "zone token: %v", err)
	}
	return zone, nil
}

// attach records a new stream of a zone, cancelling the one it replaces; detach undoes it.
func (s *Server) attach(ctx context.Context, zone, method string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	slot := &streamSlot{cancel: cancel}
	s.mu.Lock()
	z := s.zones[zone]
	if z == nil {
		z = &zoneState{status: ZoneStatus{Zone: zone}, streams: map[string]*streamSlot{}}
		s.zones[zone] = z
	}
	if old := z.streams[method]; old != nil {
		old.cancel(errReplaced)
	}
	z.streams[method] = slot
	if !z.status.Connected {
		z.status.Connected, z.status.ConnectedAt = true, time.Now()
		s.metrics.connected.WithLabelValues(zone).Set(1)
	}
	s.mu.Unlock()
	s.log.Info("zone stream opened", "zone", zone, "method", method)
	expiry := func() bool { return true }
	if exp, err := zonetokens.Expiry(bearer(ctx)); err == nil && !exp.IsZero() {
		expiry = time.AfterFunc(time.Until(exp), func() { cancel(errTokenExpired) }).Stop
	}
	return ctx, func() {
		expiry()
		cancel(nil)
		s.mu.Lock()
		defer s.mu.Unlock()
		if z.streams[method] == slot {
			delete(z.streams, method)
		}
		if len(z.streams) == 0 {
			z.status.Connected = false
			s.metrics.connected.WithLabelValues(zone).Set(0)
		}
	}
}

func (s *Server) update(zone string, f func(*ZoneStatus)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if z := s.zones[zone]; z != nil {
		f(&z.status)
	}
}

func (s *Server) streamEnded(ctx context.Context, zone, method string, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, errReplaced) {
		return status.Error(codes.Aborted, errReplaced.Error())
	} else if errors.Is(cause, errRevoked) {
		return status.Error(codes.PermissionDenied, errRevoked.Error())
	} else if errors.Is(cause, errTokenExpired) {
		return status.Error(codes.Unauthenticated, errTokenExpired.Error())
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		s.update(zone, func(st *ZoneStatus) { st.LastError = err.Error() })
		s.log.Info("zone stream ended", "zone", zone, "method", method, "error", err)
	}
	return err
}

// globalToZone sends global's resources to the zone and reads its ACKs and NACKs.
func (s *Server) globalToZone(ss grpc.ServerStream) error {
	zone, err := s.authenticate(ss.Context())
	if err != nil {
		return err
	}
	ctx, detach := s.attach(ss.Context(), zone, methodGlobalToZone)
	defer detach()
	snd := &sender{st: s.opts.Store, kinds: globalToZoneKinds,
		include: func(rec store.Record) bool { return includeForZone(zone, rec) },
		send:    func(r *discovery.DeltaDiscoveryResponse) error { return ss.SendMsg(r) },
		sent: func(n int) {
			s.metrics.sent.WithLabelValues(zone).Add(float64(n))
			s.update(zone, func(st *ZoneStatus) { st.ResourcesSent += int64(n) })
		}}
	err = race(ctx, snd.run, func(context.Context) error {
		for {
			req := new(discovery.DeltaDiscoveryRequest)
			if err := ss.RecvMsg(req); err != nil {
				return err
			}
			if d := req.GetErrorDetail(); d != nil {
				snd.nacked(req.GetTypeUrl())
				s.metrics.nacks.WithLabelValues(zone, "zone").Inc()
				s.update(zone, func(st *ZoneStatus) { st.LastError = "zone NACKed " + req.GetTypeUrl() + ": " + d.GetMessage() })
				s.log.Warn("zone refused resources", "zone", zone, "type", req.GetTypeUrl(), "error", d.GetMessage())
			} else if req.GetResponseNonce() != "" {
				s.update(zone, func(st *ZoneStatus) { st.LastSync = time.Now() })
			}
		}
	})
	return s.streamEnded(ctx, zone, methodGlobalToZone, err)
}

// includeForZone: global's own resources, and every other zone's ZoneIngress.
func includeForZone(zone string, rec store.Record) bool {
	if rec.Kind == kindZoneIngress {
		return rec.Origin != OriginZonePrefix+zone
	}
	return !strings.HasPrefix(rec.Origin, OriginZonePrefix)
}

// zoneToGlobal receives the zone's resources, each response applied in one transaction.
func (s *Server) zoneToGlobal(ss grpc.ServerStream) error {
	zone, err := s.authenticate(ss.Context())
	if err != nil {
		return err
	}
	ctx, detach := s.attach(ss.Context(), zone, methodZoneToGlobal)
	defer detach()
	rcv := &receiver{st: s.opts.Store, kinds: zoneToGlobalKinds, origin: OriginZonePrefix + zone, zone: zone}
	err = race(ctx, func(ctx context.Context) error {
		for _, kind := range zoneToGlobalKinds {
			if err := ss.SendMsg(&discovery.DeltaDiscoveryRequest{TypeUrl: typeURL(kind), ResourceNamesSubscribe: []string{"*"}}); err != nil {
				return err
			}
		}
		for {
			resp := new(discovery.DeltaDiscoveryResponse)
			if err := ss.RecvMsg(resp); err != nil {
				return err
			}
			n, err := rcv.apply(ctx, resp)
			ack := ackFor(resp, err)
			if err != nil {
				s.metrics.nacks.WithLabelValues(zone, "global").Inc()
				s.update(zone, func(st *ZoneStatus) { st.LastError = err.Error() })
				s.log.Warn("refused resources from zone", "zone", zone, "type", resp.GetTypeUrl(), "error", err)
			} else {
				s.metrics.received.WithLabelValues(zone).Add(float64(n))
				s.update(zone, func(st *ZoneStatus) { st.ResourcesReceived += int64(n); st.LastSync = time.Now() })
			}
			if err := ss.SendMsg(ack); err != nil {
				return err
			}
		}
	})
	return s.streamEnded(ctx, zone, methodZoneToGlobal, err)
}

func (s *Server) signIntermediate(ctx context.Context, in *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	zone, err := s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	if s.opts.SignIntermediate == nil {
		return nil, status.Error(codes.Unimplemented, "this global control plane signs no zone intermediates")
	}
	var req signRequest
	if err := unmarshalJSON(in, &req); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	chain, err := s.opts.SignIntermediate(ctx, zone, req.Mesh, req.Backend, req.CSRPEM)
	if err != nil {
		s.log.Warn("zone intermediate not signed", "zone", zone, "mesh", req.Mesh, "backend", req.Backend, "error", err)
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Error(codes.FailedPrecondition, fmt.Sprintf("signing zone %s's intermediate for mesh %s: %v", zone, req.Mesh, err))
	}
	return marshalJSON(signResponse{ChainPEM: chain})
}

// race runs fns until the first returns (or ctx ends) and returns its error. A function blocked
// in RecvMsg is left to end with its stream.
func race(ctx context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(fns))
	for _, f := range fns {
		go func() { errc <- f(ctx) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
