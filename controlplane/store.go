package controlplane

import (
	"context"

	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/store/open"
)

// openStore opens the store the configuration names: PostgreSQL for a postgres:// URL, the
// embedded SQLite database in dataDir otherwise.
func openStore(ctx context.Context, url, dataDir string) (store.Store, error) {
	return open.Open(ctx, url, dataDir)
}
