package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meshgate/meshgate/store/internal/backend"
)

const (
	// listenerAppName lets operators (and tests) find the listener in pg_stat_activity.
	listenerAppName = "meshgate-listener"
	// resyncEvery bounds how long a silently dead connection goes unnoticed: the listener
	// then queries the revision, which both probes the connection and catches up on anything
	// a notification failed to say.
	resyncEvery = 30 * time.Second
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 5 * time.Second
	// roundTripTimeout bounds a reconnection and a resync query: a server behind a network
	// that drops packets would otherwise hold the listener for the kernel's TCP timeouts
	// (minutes) before it tries again.
	roundTripTimeout = 10 * time.Second
)

// Watch implements store.Store. The first call starts the listener and returns only once it is
// listening, so no change committed after Watch returns can be missed.
func (s *Store) Watch(ctx context.Context) (<-chan int64, error) {
	if err := s.startListener(ctx); err != nil {
		return nil, fmt.Errorf("postgres: watch: %w", err)
	}
	ch, err := s.hub.Watch(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: watch: %w", err)
	}
	return ch, nil
}

func (s *Store) startListener(ctx context.Context) error {
	s.listenMu.Lock()
	defer s.listenMu.Unlock()
	if s.ctx.Err() != nil {
		return backend.ErrClosed
	}
	if s.listening {
		return nil
	}
	// Connect with the caller's ctx, so a caller that gives up is not kept waiting; cancel it
	// also when the store closes.
	connectCtx, stop := context.WithCancel(ctx)
	defer stop()
	unhook := context.AfterFunc(s.ctx, stop)
	defer unhook()
	conn, err := s.connectListener(connectCtx)
	if err != nil {
		return err
	}
	s.listening = true
	s.wg.Add(1)
	go s.listen(conn)
	return nil
}

// connectListener opens a dedicated connection (a pooled one would be handed back and lose its
// LISTEN), subscribes, and then publishes the current revision: whatever committed while no
// connection was listening is announced now.
func (s *Store) connectListener(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = listenerAppName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("listener: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listener: listen: %w", err)
	}
	if err := s.resync(ctx, conn); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

func (s *Store) resync(ctx context.Context, conn *pgx.Conn) error {
	var rev int64
	if err := conn.QueryRow(ctx, `SELECT value FROM revision WHERE id = 1`).Scan(&rev); err != nil {
		return fmt.Errorf("listener: read revision: %w", err)
	}
	s.hub.Publish(rev)
	return nil
}

// listen runs until the store closes, reconnecting with backoff whenever the connection fails.
func (s *Store) listen(conn *pgx.Conn) {
	defer s.wg.Done()
	for {
		err := s.receive(conn)
		conn.Close(context.Background())
		if s.ctx.Err() != nil {
			return
		}
		slog.Warn("store: postgres: change listener lost its connection, reconnecting", "err", err)
		if conn = s.reconnect(); conn == nil {
			return
		}
		// The connection was lost because the server was (most likely): watchers that tried
		// to read the store meanwhile failed, and may hold nothing newer than what they failed
		// to read. Announce the revision again, even if unchanged, so that they read it now.
		s.hub.Repeat()
		slog.Info("store: postgres: change listener reconnected")
	}
}

func (s *Store) reconnect() *pgx.Conn {
	backoff := minBackoff
	for {
		select {
		case <-s.ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		ctx, cancel := context.WithTimeout(s.ctx, roundTripTimeout)
		conn, err := s.connectListener(ctx)
		cancel()
		if err == nil {
			return conn
		}
		if s.ctx.Err() != nil {
			return nil
		}
		slog.Debug("store: postgres: change listener reconnect failed", "err", err, "retry_in", backoff)
		backoff = min(2*backoff, maxBackoff)
	}
}

// receive publishes notified revisions until the connection fails or the store closes.
func (s *Store) receive(conn *pgx.Conn) error {
	for {
		waitCtx, cancel := context.WithTimeout(s.ctx, resyncEvery)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case s.ctx.Err() != nil:
			return s.ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			ctx, cancel := context.WithTimeout(s.ctx, roundTripTimeout)
			err := s.resync(ctx, conn)
			cancel()
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			rev, perr := strconv.ParseInt(n.Payload, 10, 64)
			if perr != nil {
				slog.Warn("store: postgres: ignoring malformed change notification", "payload", n.Payload)
				continue
			}
			s.hub.Publish(rev)
		}
	}
}
