package servingtls

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync/atomic"
	"time"
)

// minWait keeps the renewal loop from spinning when a leaf is cut so short (its CA nearly
// expired) that its renewal time is already here.
const minWait = 100 * time.Millisecond

// served is one serving certificate and what goes with it; it is replaced whole, never
// changed, so readers need no lock.
type served struct {
	cert  *tls.Certificate // Leaf is set
	caPEM []byte
	sans  []string
	// renewAt is when a generated leaf is replaced.
	renewAt time.Time
	// fp is the content of the files a file-mode pair came from.
	fp [sha256.Size]byte
}

// Source holds the control plane's serving certificate and keeps it current. It is safe for
// concurrent use.
type Source struct {
	opts Options
	log  *slog.Logger
	// ca signs generated leaves; nil in file mode.
	ca *controlPlaneCA
	// sans are the generated leaf's SANs, or in file mode the ones the certificate must cover.
	sans    sanSet
	cur     atomic.Pointer[served]
	metrics *metrics
	running atomic.Bool
}

// New loads or creates the serving certificate, so that ServerConfig serves from the moment it
// returns. Generated mode reads (or creates) the CA in the store under ctx; file mode reads the
// files, and a pair that does not load is an error naming the file at fault.
func New(ctx context.Context, opts Options) (*Source, error) {
	o, err := opts.normal()
	if err != nil {
		return nil, fmt.Errorf("control-plane TLS: %w", err)
	}
	s := &Source{opts: o, log: o.Logger}
	var first *served
	if o.fileMode() {
		first, err = s.loadFiles(o.Now())
	} else {
		first, err = s.loadGenerated(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("control-plane TLS: %w", err)
	}
	if s.metrics, err = newMetrics(o.Registerer); err != nil {
		return nil, fmt.Errorf("control-plane TLS: %w", err)
	}
	s.cur.Store(first)
	s.metrics.notAfter.Set(float64(first.cert.Leaf.NotAfter.Unix()))
	return s, nil
}

func (s *Source) loadGenerated(ctx context.Context) (*served, error) {
	names := s.opts.SANs
	if len(names) == 0 {
		hostname := s.opts.Hostname
		if hostname == nil {
			hostname = os.Hostname
		}
		names = defaultSANs(hostname, s.log)
	}
	var err error
	if s.sans, err = parseSANs(names); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	if s.ca, err = loadOrCreateCA(ctx, s.opts.Store, now, s.log); err != nil {
		return nil, err
	}
	first, err := s.issue(now)
	if err != nil {
		return nil, err
	}
	s.log.Info("control-plane TLS: serving certificate issued from the control-plane CA", leafAttrs(first)...)
	return first, nil
}

func (s *Source) loadFiles(now time.Time) (*served, error) {
	if len(s.opts.SANs) > 0 {
		var err error
		if s.sans, err = parseSANs(s.opts.SANs); err != nil {
			return nil, err
		}
	}
	p, err := readPair(s.opts.CertFile, s.opts.KeyFile)
	if err != nil {
		return nil, err
	}
	first, err := loadPair(p, s.opts.CertFile, s.opts.KeyFile, s.sans, now)
	if err != nil {
		return nil, err
	}
	s.log.Info("control-plane TLS: serving certificate loaded", append(leafAttrs(first), "certFile", s.opts.CertFile, "keyFile", s.opts.KeyFile)...)
	if first.caPEM == nil {
		s.log.Info("control-plane TLS: the cert file holds no chain and the certificate is not self-signed; clients must already trust its issuer",
			"certFile", s.opts.CertFile, "issuer", first.cert.Leaf.Issuer.String())
	}
	return first, nil
}

// issue makes a generated leaf and decides when to replace it.
func (s *Source) issue(now time.Time) (*served, error) {
	cert, err := s.ca.issue(s.sans, now, s.opts.Validity)
	if err != nil {
		return nil, err
	}
	life := cert.Leaf.NotAfter.Sub(now)
	// Certificates carry whole seconds, so a full-length leaf may be up to a second short.
	if life < s.opts.Validity-time.Second {
		s.log.Warn("control-plane TLS: serving certificate cut short by the control-plane CA's end",
			"caNotAfter", s.ca.cert.NotAfter.UTC(), "notAfter", cert.Leaf.NotAfter.UTC())
	}
	return &served{
		cert:    cert,
		caPEM:   s.ca.pem,
		sans:    s.sans.all,
		renewAt: now.Add(time.Duration(float64(life) * s.opts.RenewFraction)),
	}, nil
}

// ServerConfig is a TLS server configuration that serves the current certificate: each
// handshake asks for it, so a renewal or reload applies to the next connection without a
// restart. NextProtos is left to the caller: gRPC's credentials.NewTLS adds h2, and
// net/http's ServeTLS adds h2 and http/1.1. Each call returns a new Config.
func (s *Source) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.cur.Load().cert, nil
		},
	}
}

// CAPEM is what clients should trust, as PEM: the generated control-plane CA (the same on every
// replica of one store, and fixed for the life of the process); in file mode the certificates
// after the leaf in the cert file, else the leaf when it is self-signed, else nil (the
// certificate must chain to a CA clients already trust). In file mode it follows reloads.
func (s *Source) CAPEM() []byte { return slices.Clone(s.cur.Load().caPEM) }

// SANs are the names the serving certificate is valid for, which clients may dial and check: in
// generated mode Options.SANs (or DefaultSANs) in canonical form and given order; in file mode
// the current certificate's DNS names, then its IP addresses.
func (s *Source) SANs() []string { return slices.Clone(s.cur.Load().sans) }

// Leaf is the certificate being served now (for diagnostics). Callers must not modify it.
func (s *Source) Leaf() *x509.Certificate { return s.cur.Load().cert.Leaf }

// Run keeps the certificate current until ctx is done, then returns nil: in generated mode it
// renews the leaf once RenewFraction of its life has passed (retrying every CheckInterval on
// failure, which leaves the current leaf serving); in file mode it reloads the files when their
// content changes. It may run once at a time.
func (s *Source) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("control-plane TLS: Run is already running")
	}
	defer s.running.Store(false)
	if s.ca == nil {
		return s.pollFiles(ctx)
	}
	return s.renewLoop(ctx)
}

func (s *Source) renewLoop(ctx context.Context) error {
	t := time.NewTimer(s.renewIfDue())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			t.Reset(s.renewIfDue())
		}
	}
}

// renewIfDue renews the leaf if its time has come, and returns how long to sleep.
func (s *Source) renewIfDue() time.Duration {
	now := s.opts.Now()
	if !now.Before(s.cur.Load().renewAt) {
		next, err := s.issue(now)
		if err != nil {
			s.metrics.updates.WithLabelValues("error").Inc()
			s.log.Error("control-plane TLS: renewing the serving certificate failed; the current one keeps serving",
				"error", err, "notAfter", s.cur.Load().cert.Leaf.NotAfter.UTC(), "retryIn", s.opts.CheckInterval)
			return s.opts.CheckInterval
		}
		s.swap(next)
		s.log.Info("control-plane TLS: serving certificate renewed", leafAttrs(next)...)
	}
	return max(min(s.cur.Load().renewAt.Sub(now), s.opts.CheckInterval), minWait)
}

func (s *Source) swap(next *served) {
	s.cur.Store(next)
	s.metrics.notAfter.Set(float64(next.cert.Leaf.NotAfter.Unix()))
	s.metrics.updates.WithLabelValues("ok").Inc()
}

func leafAttrs(c *served) []any {
	return []any{"serial", c.cert.Leaf.SerialNumber.Text(16), "sans", c.sans, "notAfter", c.cert.Leaf.NotAfter.UTC()}
}
