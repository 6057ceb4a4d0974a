package controlplane

import (
	"context"
	"log/slog"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/identity"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
)

// The workload identities live in ca/identity, which knows nothing of xDS; this is where the
// reconciler meets it: its identities become the build's, and its rebuild's dataplanes the
// ones whose identities are kept.

// dataplaneIdentity is the dataplane's identity as the build takes it (nil when its mesh has no
// mTLS), and when the identities must be looked at again. A proxyless (gRPC) dataplane gets
// none: its configuration names certificate provider instances, never SDS secrets, so it is
// served without waiting for the CA; its certificates come from the identity endpoint.
func dataplaneIdentity(ctx context.Context, ids *identity.Service, mesh *model.Mesh, dp *api.Dataplane) (*build.Identity, time.Time, error) {
	if dp.IsProxyless() {
		return nil, time.Time{}, nil
	}
	id, wake, err := ids.For(ctx, identity.Request{Mesh: mesh, Dataplane: dp})
	if err != nil || id == nil {
		return nil, wake, err
	}
	return &build.Identity{CertificateChain: id.CertificateChain, PrivateKey: id.PrivateKey, TrustBundle: id.TrustBundle}, wake, nil
}

// forgetIdentities ends a rebuild: the identities of dataplanes not in states are dropped.
func forgetIdentities(ids *identity.Service, states map[string]DataplaneState) {
	keep := make(map[identity.Dataplane]bool, len(states))
	for _, st := range states {
		keep[identity.Dataplane{Mesh: st.Mesh, Name: st.Name}] = true
	}
	ids.Forget(keep)
}

// warmAuthorities prepares, while the store answers, the CA of every mTLS mesh that has
// dataplanes, so that a dataplane failing over to this replica during a store outage (one this
// replica never served) can still be issued a certificate from the CA held in memory; the
// certificate is stored when the store is back. Views are cached per rebuild, so this costs a
// store read per mesh at most once per rebuild.
func warmAuthorities(ctx context.Context, ids *identity.Service, m *model.Model, log *slog.Logger) {
	for _, mesh := range m.Meshes() {
		if !mesh.MTLSEnabled() || len(mesh.Dataplanes) == 0 {
			continue
		}
		if _, err := ids.Bundle(ctx, mesh); err != nil {
			log.Debug("preparing the CA of a mesh", "mesh", mesh.Name, "error", err)
		}
	}
}
