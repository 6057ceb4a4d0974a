package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

const udpSocketBuffer = 4 << 20

// DefaultAddress is meshgate's DNS address (DESIGN.md: UDP and TCP on :5653).
const DefaultAddress = ":5653"

// Options configures a Server. The zero value serves :5653 with forwarding
// off and every client in the view "".
type Options struct {
	// Address for both UDP and TCP; default ":5653". With port 0 both
	// transports get the same free port.
	Address string
	// ViewOf names the view a client sees from its source address
	// (IPv4-mapped addresses are unmapped first). "" means DefaultView.
	// It runs on every query for a name that is not global: keep it cheap.
	ViewOf      func(client netip.Addr) string
	DefaultView string
	// Upstreams are host:port resolvers (":53" is added when the port is
	// missing) for names outside the origin; none turns forwarding off and
	// those names get REFUSED. See UpstreamsFromResolvConf.
	Upstreams      []string
	ForwardTimeout time.Duration // per attempt; default 2s
	// ForwardAllow are the clients whose names outside the origin are
	// forwarded, besides the addresses given to SetForwardAllowed; every
	// other client gets REFUSED for them (zone names and its overrides are
	// answered as usual), so the server is no open resolver. nil means
	// DefaultForwardAllow (this host only); an empty list allows only the
	// addresses set with SetForwardAllowed.
	ForwardAllow []netip.Prefix
	// SocketsPerCore opens GOMAXPROCS UDP sockets with SO_REUSEPORT so the
	// kernel spreads queries over every core. Ignored where unsupported.
	SocketsPerCore bool
	Logger         *slog.Logger          // default slog.Default()
	Registerer     prometheus.Registerer // nil: metrics are kept but not exported
}

// Server is the embedded DNS server. Create it with New, give it a zone with
// SetZone (until then every query gets SERVFAIL), then Start or Serve.
type Server struct {
	opts      Options
	log       *slog.Logger
	upstreams []string
	allow     allowList
	tcpClient *mdns.Client
	metrics   *metrics
	zone      atomic.Pointer[Zone]

	mu      sync.Mutex
	started bool
	servers []*mdns.Server
	udp     []*net.UDPConn
	udpAddr string
	tcpAddr string
	errc    chan error
	wg      sync.WaitGroup
	closed  chan struct{} // closing has begun
	stopped chan struct{} // every socket is released
}

// New validates opts; it opens no socket.
func New(opts Options) (*Server, error) {
	if opts.Address == "" {
		opts.Address = DefaultAddress
	}
	if _, _, err := net.SplitHostPort(opts.Address); err != nil {
		return nil, fmt.Errorf("dns server: address %q: %w", opts.Address, err)
	}
	if opts.ForwardTimeout <= 0 {
		opts.ForwardTimeout = DefaultForwardTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	ups := make([]string, 0, len(opts.Upstreams))
	for _, u := range opts.Upstreams {
		hp, err := normalizeUpstream(u)
		if err != nil {
			return nil, fmt.Errorf("dns server: %w", err)
		}
		ups = append(ups, hp)
	}
	allow, err := forwardPrefixes(opts.ForwardAllow)
	if err != nil {
		return nil, fmt.Errorf("dns server: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("dns server: %w", err)
	}
	return &Server{
		opts:      opts,
		log:       log.With("component", "dns"),
		upstreams: ups,
		allow:     allowList{prefixes: allow},
		tcpClient: &mdns.Client{Net: "tcp", Timeout: opts.ForwardTimeout},
		metrics:   m,
		closed:    make(chan struct{}),
		stopped:   make(chan struct{}),
	}, nil
}

func normalizeUpstream(u string) (string, error) {
	if host, port, err := net.SplitHostPort(u); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil || host == "" {
			return "", fmt.Errorf("upstream %q: want host:port", u)
		}
		return u, nil
	}
	if _, err := netip.ParseAddr(u); err != nil {
		return "", fmt.Errorf("upstream %q: want host:port or an IP address", u)
	}
	return net.JoinHostPort(u, "53"), nil
}

// SetZone swaps the zone atomically: a query sees the old zone or the new
// one, never a mix. A nil zone makes every query SERVFAIL.
func (s *Server) SetZone(z *Zone) {
	s.zone.Store(z)
	if z != nil {
		s.log.Debug("dns zone swapped", "origin", z.origin, "serial", z.soa.Serial,
			"global", len(z.global), "views", len(z.views), "override_views", len(z.overrides))
	}
}

// Zone returns the zone being served, or nil.
func (s *Server) Zone() *Zone { return s.zone.Load() }

// Start opens the sockets and serves in the background until ctx ends or
// Close is called. It returns once the sockets are bound, so Addr is valid.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("dns server: already started")
	}
	select {
	case <-s.closed:
		return errors.New("dns server: closed")
	default:
	}
	n := 1
	if s.opts.SocketsPerCore && reusePortSupported {
		n = runtime.GOMAXPROCS(0)
	}
	pcs, ln, err := listen(ctx, s.opts.Address, n)
	if err != nil {
		return fmt.Errorf("dns server: %w", err)
	}
	s.started = true
	s.udpAddr, s.tcpAddr = pcs[0].LocalAddr().String(), ln.Addr().String()
	s.errc = make(chan error, 1)
	for _, pc := range pcs {
		uc := pc.(*net.UDPConn)
		// Bursts from many clients overflow the default receive buffer
		// (about 200 KiB) long before the CPU is busy; the kernel caps
		// this at net.core.rmem_max, which is fine too.
		_ = uc.SetReadBuffer(udpSocketBuffer)
		_ = uc.SetWriteBuffer(udpSocketBuffer)
		s.udp = append(s.udp, uc)
		s.wg.Add(1)
		go s.serveUDP(uc)
	}
	ready := make(chan struct{}, 1)
	// UDP is served by our own loop (udp.go); TCP, where the cost is in
	// connection handling anyway, by miekg's server.
	s.run(&mdns.Server{Listener: ln, Handler: s}, ready)
	// miekg's Shutdown fails on a server that has not started yet, so a
	// Close right after Start would leak it: wait until it runs.
	select {
	case <-ready:
	case err := <-s.errc:
		s.errc <- err
		s.mu.Unlock()
		s.Close()
		s.mu.Lock()
		return err
	}
	s.log.Info("dns server listening", "udp", s.udpAddr, "tcp", s.tcpAddr,
		"udp_sockets", len(pcs), "upstreams", s.upstreams, "forward_allow", s.allow.prefixes)
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.closed:
		}
	}()
	return nil
}

func (s *Server) run(srv *mdns.Server, ready chan<- struct{}) {
	srv.NotifyStartedFunc = func() { ready <- struct{}{} }
	s.servers = append(s.servers, srv)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.ActivateAndServe(); err != nil {
			s.errc <- fmt.Errorf("dns server: %w", err)
		}
	}()
}

// Serve is Start followed by waiting until ctx ends (nil) or a socket fails
// (that error); either way the server is closed when it returns.
func (s *Server) Serve(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		s.Close()
		return nil
	case err := <-s.errc:
		s.Close()
		return err
	case <-s.closed:
		<-s.stopped
		return nil
	}
}

// Addr returns the bound UDP and TCP addresses, empty before Start.
func (s *Server) Addr() (udp, tcp string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.udpAddr, s.tcpAddr
}

// Close stops serving and waits for the sockets to be released. In-flight
// forwarded queries may take up to the forward timeout. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		<-s.stopped // a concurrent Close is releasing the sockets
		return
	default:
		close(s.closed)
	}
	defer close(s.stopped)
	servers, udp := s.servers, s.udp
	s.mu.Unlock()
	for _, pc := range udp {
		_ = pc.Close() // ends serveUDP; in-flight forwards finish on their own
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.ForwardTimeout+time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.ShutdownContext(ctx); err != nil {
			s.log.Debug("dns server shutdown", "error", err)
		}
	}
	s.wg.Wait()
}
