package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

// markUnavailable wraps *errp in store.ErrUnavailable when it says the server could not be
// reached, so that callers tell "PostgreSQL is down, retry" from a failure of the request
// itself without knowing pgx. Every exported operation defers it on its named error result.
func markUnavailable(errp *error) {
	if err := *errp; unreachable(err) && !errors.Is(err, store.ErrUnavailable) {
		*errp = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
}

// unreachable classifies an error from pgx: connection refused, lost or timed out, or the
// server shutting down or not accepting connections yet. Errors of the request itself (a
// constraint, a conflict, a cancelled caller) are not.
func unreachable(err error) bool {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// healthAppName names the health check's connection in pg_stat_activity.
const healthAppName = "meshgate-health"

// healthConn is the connection Ping uses: its own, not the pool's, so that a pool busy with
// long reads or many writes does not read as a server that does not answer.
type healthConn struct {
	mu   sync.Mutex
	conn *pgx.Conn
}

// Ping checks that the server answers one round trip, for health checks; its error wraps
// store.ErrUnavailable when the server cannot be reached. The connection is opened on first
// use and again after a failure.
func (s *Store) Ping(ctx context.Context) (retErr error) {
	defer markUnavailable(&retErr)
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.ctx.Err() != nil {
		return backend.ErrClosed
	}
	if h.conn == nil || h.conn.IsClosed() {
		cfg := s.pool.Config().ConnConfig.Copy()
		if cfg.RuntimeParams == nil {
			cfg.RuntimeParams = map[string]string{}
		}
		cfg.RuntimeParams["application_name"] = healthAppName
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return fmt.Errorf("postgres: ping: %w", err)
		}
		h.conn = conn
	}
	if err := h.conn.Ping(ctx); err != nil {
		h.closeLocked()
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

func (h *healthConn) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeLocked()
}

func (h *healthConn) closeLocked() {
	if h.conn != nil {
		_ = h.conn.Close(context.Background())
		h.conn = nil
	}
}
