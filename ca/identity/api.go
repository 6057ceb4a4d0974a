package identity

import (
	"context"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/model"
)

// Dataplane names one dataplane: the identities are kept and forgotten by it.
type Dataplane struct {
	Mesh, Name string
}

// String reads as the dataplane's node id does, so that errors name it as the control plane's
// logs do.
func (d Dataplane) String() string { return api.NodeID(d.Mesh, d.Name) }

// Identity is a dataplane's workload certificate as PEM: its chain (leaf first), its private
// key, and the mesh's trust bundle (retiring roots included). The control plane turns it into
// the xDS secrets; this package knows nothing of xDS.
type Identity struct {
	CertificateChain string
	PrivateKey       string
	TrustBundle      string
}

// Request asks for one dataplane's identity during a rebuild.
type Request struct {
	Mesh      *model.Mesh
	Dataplane *api.Dataplane
}

// For returns the dataplane's identity (nil when its mesh has no mTLS), issuing it when none
// is cached or stored, and when the identities must be looked at again: a renewal, a scheduled
// re-issue, or a retiring root due to leave the bundle. Call SetModel first, and Forget at the
// end of the rebuild, which stores what this one issued.
func (i *Service) For(ctx context.Context, req Request) (*Identity, time.Time, error) {
	return i.forDataplane(ctx, req.Mesh, req.Dataplane)
}

// Bundle is the mesh's trust bundle as its dataplanes are given it in this rebuild, retiring
// roots included.
func (i *Service) Bundle(ctx context.Context, mesh *model.Mesh) (string, error) {
	v, err := i.view(ctx, mesh)
	if err != nil {
		return "", err
	}
	return v.bundlePEM, nil
}

// Authority is the mesh's CA; its bundle also holds the mesh's retiring roots, so that the
// bundle endpoint serves exactly what dataplanes validate with.
func (i *Service) Authority(ctx context.Context, mesh *api.Mesh) (ca.Authority, error) {
	return i.ca.For(ctx, mesh)
}

// ReloadChanged forgets the CA of every mesh whose backend files or Secrets changed (see
// ca.Manager.ReloadChanged), and makes the next rebuild load its backends again although its
// mtls section did not change.
func (i *Service) ReloadChanged(ctx context.Context) []ca.SourceChange {
	changes := i.ca.ReloadChanged(ctx)
	for _, c := range changes {
		i.rot.reload(c.Mesh)
	}
	return changes
}

// DeleteMesh deletes the CA state the store keeps for a mesh incarnation (ca.Manager.DeleteMesh).
func (i *Service) DeleteMesh(ctx context.Context, mesh string, created time.Time, builtinBackends []string) ([]string, error) {
	return i.ca.DeleteMesh(ctx, mesh, created, builtinBackends)
}
