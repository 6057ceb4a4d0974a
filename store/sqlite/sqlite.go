// Package sqlite is the embedded store: one SQLite file, pure Go (no cgo), in WAL mode so
// readers never wait for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/internal/backend"
)

// FileName is the database file inside a data dir.
const FileName = "meshgate.db"

// maxConns bounds concurrent readers; writers are serialised anyway.
const maxConns = 8

// Store is a store.Store in one SQLite file. It is safe for concurrent use. Watch reports
// changes made through this Store only, not by other processes writing the same file.
type Store struct {
	db  *sql.DB
	hub *backend.Hub
	// writeMu serialises writers in this process: SQLite admits one writer at a time anyway,
	// and queueing here instead of in busy_timeout retries keeps revisions published in order.
	writeMu sync.Mutex
	// leaseHolders took a lease through this Store (lease.go); guarded by writeMu.
	leaseHolders map[string]bool
	closeOnce    sync.Once
	closeErr     error
}

var _ store.Store = (*Store)(nil)

// OpenDir opens (creating if needed) <dir>/meshgate.db; dir is created 0700 if missing.
func OpenDir(ctx context.Context, dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("sqlite: open: data dir is empty")
	}
	return Open(ctx, filepath.Join(dir, FileName))
}

// Open opens (creating if needed) the database file at path and migrates its schema. The
// file's directory is created 0700 if missing, and the file 0600, since the state table
// holds private keys.
func Open(ctx context.Context, path string) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open %s: path must not contain '?' or '#'", path)
	}
	if err := prepareFile(path); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	// busy_timeout covers other processes on the same file; _txlock=immediate takes the write
	// lock at BEGIN for write transactions, so a transaction never fails half-way on upgrade.
	dsn := path + "?_busy_timeout=10000&_journal_mode=WAL&_foreign_keys=1&_synchronous=FULL&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Every connection is a SQLite handle with its own cache and pragmas; keep them around
	// rather than reopening them, which database/sql's default of two idle ones would do.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: migrate: %w", path, err)
	}
	s := &Store{db: db}
	rev, err := s.revision(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.hub = backend.NewHub(rev)
	return s, nil
}

// prepareFile fails early, naming the directory, where SQLite would only say "unable to open
// database file".
func prepareFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".meshgate-write-test-*")
	if err != nil {
		return fmt.Errorf("data dir %s is not writable: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("database file: %w", err)
	}
	return f.Close()
}

// Close closes the database and every watcher channel. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.hub.Close()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return s.closeErr
}

// Watch implements store.Store.
func (s *Store) Watch(ctx context.Context) (<-chan int64, error) {
	ch, err := s.hub.Watch(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: watch: %w", err)
	}
	return ch, nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) revision(ctx context.Context, q queryer) (int64, error) {
	var rev int64
	if err := q.QueryRowContext(ctx, `SELECT value FROM revision WHERE id = 1`).Scan(&rev); err != nil {
		return 0, fmt.Errorf("read revision: %w", err)
	}
	return rev, nil
}
