package controlplane

import (
	"context"
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
// mTLS), and when the identities must be looked at again.
func dataplaneIdentity(ctx context.Context, ids *identity.Service, mesh *model.Mesh, dp *api.Dataplane) (*build.Identity, time.Time, error) {
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
