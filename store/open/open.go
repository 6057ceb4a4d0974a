// Package open selects a store implementation from a URL. It is separate from package store so
// that the interface does not import its implementations (they import it).
package open

import (
	"context"
	"fmt"
	"strings"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/postgres"
	"github.com/meshgate/meshgate/store/sqlite"
)

// Open returns the store for url:
//   - "" or "sqlite://": the embedded SQLite database <dataDir>/meshgate.db;
//   - "sqlite:///abs/path.db": the embedded database in that file (dataDir unused);
//   - "postgres://..." or "postgresql://...": PostgreSQL.
func Open(ctx context.Context, url, dataDir string) (store.Store, error) {
	switch {
	case url == "" || url == "sqlite://":
		if dataDir == "" {
			return nil, fmt.Errorf("store: --data-dir is required for the embedded store")
		}
		return nonNil(sqlite.OpenDir(ctx, dataDir))
	case strings.HasPrefix(url, "sqlite://"):
		return nonNil(sqlite.Open(ctx, strings.TrimPrefix(url, "sqlite://")))
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return nonNil(postgres.Open(ctx, url))
	default:
		return nil, fmt.Errorf("store: unsupported URL %q: want empty or sqlite:// (embedded store in --data-dir) or postgres://", redact(url))
	}
}

// nonNil keeps a failed open from returning a non-nil interface that holds a nil pointer.
func nonNil[S store.Store](s S, err error) (store.Store, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// redact drops what may be a password from a URL that is about to be printed.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	return scheme + "://" + rest
}
