package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/sqlite"
	"github.com/meshgate/meshgate/store/storetest"
)

// opener gives each test its own directory and reopens it when the same test asks again.
func opener() storetest.Opener {
	var (
		mu   sync.Mutex
		dirs = map[*testing.T]string{}
	)
	return func(t *testing.T) store.Store {
		mu.Lock()
		dir, ok := dirs[t]
		if !ok {
			dir = t.TempDir()
			dirs[t] = dir
		}
		mu.Unlock()
		s, err := sqlite.OpenDir(context.Background(), dir)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestContract(t *testing.T) {
	storetest.Run(t, opener())
}

func TestOpenCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := sqlite.OpenDir(context.Background(), dir)
	require.NoError(t, err)
	defer s.Close()
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	db, err := os.Stat(filepath.Join(dir, sqlite.FileName))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), db.Mode().Perm(), "the database holds private keys")
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name, dir, want string
	}{
		{"empty", "", "data dir is empty"},
		{"data dir is a file", file, "create data dir"},
		{"data dir under a file", filepath.Join(file, "sub"), "create data dir"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sqlite.OpenDir(context.Background(), tc.dir)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// Two Store values on one file behave like two processes: both see each other's commits.
func TestTwoHandlesOneFile(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a, err := sqlite.OpenDir(ctx, dir)
	require.NoError(t, err)
	defer a.Close()
	b, err := sqlite.OpenDir(ctx, dir)
	require.NoError(t, err)
	defer b.Close()

	k := store.Key{Kind: "Counter", Name: "c"}
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b, a, b} {
		wg.Go(func() {
			for range 10 {
				_, err := storetest.Increment(ctx, s, k)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	rec, err := b.Get(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, "40", string(rec.Spec))
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := sqlite.OpenDir(ctx, dir)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	// Pretend a newer binary migrated the file.
	sqlite.BumpSchemaForTest(t, filepath.Join(dir, sqlite.FileName))
	_, err = sqlite.OpenDir(ctx, dir)
	require.ErrorContains(t, err, "newer than this binary supports")
}

func BenchmarkApply(b *testing.B) {
	s, err := sqlite.OpenDir(context.Background(), b.TempDir())
	require.NoError(b, err)
	defer s.Close()
	storetest.BenchmarkApply(b, s)
}
