// Package open selects a store implementation from a URL. It is separate from package store so
// that the interface does not import its implementations.
package open

import (
	"context"
	"fmt"
	"strings"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/postgres"
	"github.com/meshgate/meshgate/store/sqlite"
)

// Open returns the store for url: PostgreSQL for postgres:// and postgresql://, the embedded
// SQLite database in dataDir for an empty url or sqlite://.
func Open(ctx context.Context, url, dataDir string) (store.Store, error) {
	switch {
	case url == "", url == "sqlite://":
		if dataDir == "" {
			return nil, fmt.Errorf("store: --data-dir is required for the embedded store")
		}
		return sqlite.OpenDir(ctx, dataDir)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return postgres.Open(ctx, url)
	default:
		return nil, fmt.Errorf("store: unsupported URL %q: want empty (embedded store in --data-dir) or postgres://", url)
	}
}
