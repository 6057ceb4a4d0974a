package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/meshgate/meshgate/api/client"
)

// DefaultSocket is where the Workload API is served unless Config.Socket says otherwise: a
// path any user can create on a laptop or a container; the socket itself is mode 0600.
const DefaultSocket = "/tmp/meshgate-agent.sock"

// Source fetches the dataplane's identity: the control plane's identity endpoint
// (*client.Client built with the dataplane token), or a test's.
type Source interface {
	DataplaneIdentity(ctx context.Context) (*client.DataplaneIdentity, error)
}

// Config is what Run needs.
type Config struct {
	// Source is asked for the identity; NewSource is asked for a Source before each fetch
	// instead when set (so a token file rewritten in place is read again).
	Source    Source
	NewSource func() (Source, error)
	// Socket is the unix socket of the Workload API; empty: DefaultSocket.
	Socket string
	// CertDir, when set, receives the identity's files (files.go).
	CertDir string
	// Refresh bounds the time between two fetches, so that other meshes' bundles (a new mesh,
	// a CA rotation) reach the workload before its own SVID's renewal; 0: one minute.
	Refresh time.Duration
	// MinRetry and MaxRetry bound the backoff after a failed fetch; 0: 1 s and 30 s.
	MinRetry, MaxRetry time.Duration
	Log                *slog.Logger
	// Ready, when set, is called once the socket listens.
	Ready func(socket string)
}

func (c *Config) defaults() {
	if c.Socket == "" {
		c.Socket = DefaultSocket
	}
	if c.Refresh <= 0 {
		c.Refresh = time.Minute
	}
	if c.MinRetry <= 0 {
		c.MinRetry = time.Second
	}
	if c.MaxRetry <= 0 {
		c.MaxRetry = 30 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Run serves the Workload API on the socket and keeps the identity (and the files) current
// until ctx ends. Streams opened before the first identity arrives wait for it. A failed fetch
// is retried with backoff while the current identity and files stay as they are.
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	if cfg.Source == nil && cfg.NewSource == nil {
		return errors.New("agent: no identity source")
	}
	lis, err := listenUnix(cfg.Socket)
	if err != nil {
		return err
	}
	h := newHub()
	srv := newWorkloadServer(h)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	failed := make(chan error, 1)
	go func() {
		// The socket failing ends the agent: the workload would get nothing.
		if err := srv.Serve(lis); err != nil {
			failed <- err
		}
		cancel()
	}()
	cfg.Log.Info("SPIFFE Workload API listening", "socket", cfg.Socket)
	if cfg.Ready != nil {
		cfg.Ready(cfg.Socket)
	}
	renew(ctx, cfg, h)
	// Streams never end by themselves: Stop ends them, and closing the listener removes the
	// socket file.
	srv.Stop()
	select {
	case err := <-failed:
		return fmt.Errorf("Workload API on %s: %w", cfg.Socket, err)
	default:
		return nil
	}
}

// renew fetches the identity, publishes and writes it, and sleeps until the next fetch is due:
// its renewal time or the refresh period, whichever comes first; after a failure, a backoff.
func renew(ctx context.Context, cfg Config, h *hub) {
	retry := cfg.MinRetry
	for {
		next, err := fetchOnce(ctx, cfg, h)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			wait := retry/2 + rand.N(retry/2+1)
			cfg.Log.Error("cannot renew the identity; keeping the current one", "error", err, "retryIn", wait.Round(time.Millisecond))
			next = time.Now().Add(wait)
			retry = min(2*retry, cfg.MaxRetry)
		} else {
			retry = cfg.MinRetry
		}
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// fetchOnce fetches and publishes the identity when it changed, and returns when to fetch next.
func fetchOnce(ctx context.Context, cfg Config, h *hub) (time.Time, error) {
	src := cfg.Source
	if cfg.NewSource != nil {
		s, err := cfg.NewSource()
		if err != nil {
			return time.Time{}, err
		}
		src = s
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	raw, err := src.DataplaneIdentity(fctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("fetching the identity: %w", err)
	}
	id, err := parseIdentity(raw)
	if err != nil {
		return time.Time{}, err
	}
	cur, _ := h.get()
	if cur == nil || !sameIdentity(cur, id) {
		// Files first: a workload told of a new SVID over the socket finds it in the files too.
		if cfg.CertDir != "" {
			if _, err := writeFiles(cfg.CertDir, id); err != nil {
				return time.Time{}, fmt.Errorf("writing the identity's files: %w", err)
			}
		}
		h.set(id)
		cfg.Log.Info("identity updated", "spiffeID", id.SVID.ID.String(), "notAfter", id.NotAfter, "renewAt", id.RenewAt,
			"trustDomains", len(id.Federated)+1)
	}
	now := time.Now()
	next := now.Add(cfg.Refresh)
	if id.RenewAt.Before(next) {
		next = id.RenewAt
	}
	// Never a busy loop, whatever the clocks say.
	return later(next, now.Add(cfg.MinRetry)), nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sameIdentity: the same SVID and the same bundles.
func sameIdentity(a, b *Identity) bool {
	if string(a.ChainPEM) != string(b.ChainPEM) || string(a.KeyPEM) != string(b.KeyPEM) || len(a.Federated) != len(b.Federated) {
		return false
	}
	ab, bb := a.bundles(), b.bundles()
	for i := range ab {
		if !ab[i].Equal(bb[i]) {
			return false
		}
	}
	return true
}

// listenUnix listens on the socket, mode 0600. A socket file left by an agent that died is
// replaced; any other file at that path is an error, never removed.
func listenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("socket %s: a file that is not a socket is in the way", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("socket %s: another agent is serving it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("socket %s: removing a stale socket: %w", path, err)
		}
	}
	lis, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	// Connecting needs write permission: owner only. Until this chmod the umask's mode applies,
	// which (022 or stricter) already denies other users.
	if err := os.Chmod(path, 0o600); err != nil {
		lis.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	return lis, nil
}
