package tokens

import (
	"context"
	"errors"

	"github.com/meshgate/meshgate/store"
)

// Warm loads what verifying a token of mesh needs (its signing keys, whether and since when the
// mesh exists, its revocations) into the caches that verification falls back on while the
// store is unreachable. A replica warms every mesh it serves, so that a dataplane failing over
// to it during a store outage, which this replica never admitted before, is still admitted, and
// a token revoked before the outage is still refused. What is cached already and fresh is not
// read again; a mesh in which no token was ever issued has no keys, and that is no error.
func (is *Issuer) Warm(ctx context.Context, mesh string) error {
	if is.keys.cached(mesh) == nil {
		ring, err := is.keys.load(ctx, mesh)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		is.keys.remember(mesh, ring)
	}
	_, err := is.Epoch(ctx, mesh, 0)
	return err
}
