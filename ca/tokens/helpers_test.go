package tokens

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store/sqlite"
)

// clock is a settable clock shared by the issuers of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openDB opens the SQLite store at path; several handles on one path act as several control
// planes on one database.
func openDB(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func dbPath(t testing.TB) string { return filepath.Join(t.TempDir(), "meshgate.db") }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newIssuer(s StateStore, c *clock) *Issuer {
	return New(s, Options{Now: c.Now, Logger: quiet()})
}

// countingStore counts state reads and can be made to fail.
type countingStore struct {
	StateStore
	gets, puts atomic.Int64
	fail       atomic.Bool
}

var errStoreDown = errors.New("store is down")

func (s *countingStore) GetState(ctx context.Context, key string) ([]byte, int64, error) {
	s.gets.Add(1)
	if s.fail.Load() {
		return nil, 0, errStoreDown
	}
	return s.StateStore.GetState(ctx, key)
}

func (s *countingStore) PutState(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	s.puts.Add(1)
	if s.fail.Load() {
		return 0, errStoreDown
	}
	return s.StateStore.PutState(ctx, key, value, expected)
}

func issue(t *testing.T, is *Issuer, mesh, name string, validFor time.Duration) string {
	t.Helper()
	tok, err := is.Issue(context.Background(), IssueRequest{Mesh: mesh, Name: name, ValidFor: validFor})
	require.NoError(t, err)
	return tok
}

// verr keeps Verify's verdict only.
func verr(_ Info, err error) error { return err }
