package controlplane

import (
	"context"
	"log/slog"

	"github.com/meshgate/meshgate/ca/identity"
	"github.com/meshgate/meshgate/model"
)

// meshBundles is the trust bundle of every mTLS mesh, which cross-mesh listeners validate
// clients against. It is nil when no gateway has a cross-mesh listener, so models without one
// never prepare the CA of a mesh that has no dataplanes. Views are cached per rebuild, so each
// mesh's bundle is prepared once however many gateways need it.
func meshBundles(ctx context.Context, ids *identity.Service, m *model.Model, log *slog.Logger) map[string]string {
	if !hasCrossMesh(m) {
		return nil
	}
	out := map[string]string{}
	for _, mesh := range m.Meshes() {
		if !mesh.MTLSEnabled() {
			continue
		}
		bundle, err := ids.Bundle(ctx, mesh)
		if err != nil {
			// As in Kuma, a mesh whose CA cannot be read is left out: its clients are refused,
			// every other mesh keeps working.
			log.Error("mesh bundle for cross-mesh listeners", "mesh", mesh.Name, "error", err)
			continue
		}
		if bundle != "" {
			out[mesh.Name] = bundle
		}
	}
	return out
}

func hasCrossMesh(m *model.Model) bool {
	for _, mesh := range m.Meshes() {
		for _, gw := range mesh.Gateways {
			for _, l := range gw.Spec.Conf.Listeners {
				if l.CrossMesh {
					return true
				}
			}
		}
	}
	return false
}
