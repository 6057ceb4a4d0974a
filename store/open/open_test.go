package open_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store/open"
	"github.com/meshgate/meshgate/store/sqlite"
)

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, url, dataDir, wantFile string
	}{
		{"empty url", "", filepath.Join(dir, "a"), filepath.Join(dir, "a", sqlite.FileName)},
		{"sqlite scheme", "sqlite://", filepath.Join(dir, "b"), filepath.Join(dir, "b", sqlite.FileName)},
		{"sqlite file", "sqlite://" + filepath.Join(dir, "c", "x.db"), "", filepath.Join(dir, "c", "x.db")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := open.Open(context.Background(), tc.url, tc.dataDir)
			require.NoError(t, err)
			defer s.Close()
			assert.IsType(t, &sqlite.Store{}, s)
			assert.FileExists(t, tc.wantFile)
		})
	}
}

func TestOpenErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	tests := []struct {
		name, url, dataDir, want string
	}{
		{"no data dir", "", "", "--data-dir is required"},
		{"unknown scheme", "mysql://root:hunter2@db/x", "", "unsupported URL"},
		{"data dir is a file", "", file, "create data dir"},
		// Reaching the PostgreSQL driver's error shows the scheme was routed there.
		{"postgres unreachable", "postgres://u@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "", "postgres: open"},
		{"postgresql unreachable", "postgresql://u:hunter2@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "", "postgres: open"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := open.Open(context.Background(), tc.url, tc.dataDir)
			require.ErrorContains(t, err, tc.want)
			assert.NotContains(t, err.Error(), "hunter2")
			assert.Nil(t, s, "a failed open returns a nil Store, not a typed nil")
		})
	}
}
