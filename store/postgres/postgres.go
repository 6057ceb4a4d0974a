// Package postgres is the store on PostgreSQL, for control planes that share one database.
// Changes committed by any process reach every process's Watch through LISTEN/NOTIFY.
package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

// channel is the NOTIFY channel; its payload is the committed revision in decimal.
const channel = "meshgate_changes"

// Store is a store.Store on PostgreSQL. It is safe for concurrent use, and any number of
// processes may share one database.
type Store struct {
	pool *pgxpool.Pool
	hub  *backend.Hub

	// The listener runs from the first Watch until Close, on a connection of its own.
	listenMu  sync.Mutex
	listening bool
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	// health is Ping's own connection (unavailable.go).
	health healthConn
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://...), and creates or migrates the schema.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: migrate: %w", redact(cfg), err)
	}
	var rev int64
	if err := pool.QueryRow(ctx, `SELECT value FROM revision WHERE id = 1`).Scan(&rev); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: read revision: %w", redact(cfg), err)
	}
	s := &Store{pool: pool, hub: backend.NewHub(rev)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// redact names the database without the password that the URL may carry.
func redact(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Close stops the listener, closes every watcher channel and the pool. It is safe to call
// more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		// Cancel before taking listenMu: that aborts a first Watch still connecting, which
		// holds it. Taking it afterwards waits for that Watch to give up or to have added
		// its listener to wg.
		s.cancel()
		s.listenMu.Lock()
		s.listenMu.Unlock() //nolint:staticcheck // empty critical section is the point
		s.wg.Wait()
		s.hub.Close()
		s.health.close()
		s.pool.Close()
	})
	return nil
}
