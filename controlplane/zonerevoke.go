package controlplane

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/meshgate/meshgate/api/client"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/zonetokens"
)

// revokeZone cuts a zone off (POST /zones/{zone}/revoke on global, admin): every token issued
// to it is refused from now on, its open sync streams end, and its intermediate CAs of every
// builtin mesh backend are revoked, so global signs it no new one and lists the old ones in the
// mesh's CRL. What the zone already issued stays valid until its intermediate expires: Envoy
// checks CRLs only when every CA of a chain publishes one (see the README).
func (cp *ControlPlane) revokeZone(w http.ResponseWriter, r *http.Request, zone string) {
	ctx := r.Context()
	err := cp.mz.tokens.RevokeSubject(ctx, zone)
	switch {
	case errors.Is(err, zonetokens.ErrBadRequest):
		writeTokenError(w, http.StatusBadRequest, "Bad request", err.Error())
		return
	case err != nil:
		cp.log.Error("revoking a zone", "zone", zone, "error", err)
		writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "cannot revoke the zone right now; retry")
		return
	}
	ended := cp.mz.server.Disconnect(zone)
	var meshes []string
	if m := cp.rec.Model(); m != nil {
		for _, mesh := range m.Meshes() {
			if !mesh.MTLSEnabled() {
				continue
			}
			for _, b := range mesh.Resource.Spec.MTLS.Backends {
				if b.Type != api.CABackendBuiltin {
					continue
				}
				if err := cp.ids.CA().RevokeZoneIntermediates(ctx, mesh.Name, b.Name, zone); err != nil {
					cp.log.Error("revoking a zone's intermediate", "zone", zone, "mesh", mesh.Name, "backend", b.Name, "error", err)
					writeTokenError(w, http.StatusServiceUnavailable, "Unavailable",
						"the zone's tokens are revoked but its intermediate of mesh "+mesh.Name+" is not yet; retry")
					return
				}
				meshes = append(meshes, mesh.Name+"/"+b.Name)
			}
		}
	}
	sort.Strings(meshes)
	cp.log.Warn("zone revoked", "zone", zone, "streams_ended", ended, "intermediates", strings.Join(meshes, ","))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(client.ZoneRevocation{Zone: zone, StreamsEnded: ended, Intermediates: meshes})
}

// crlPath reads GET /meshes/{mesh}/crl.
func crlPath(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/meshes/")
	if !ok {
		return "", false
	}
	mesh, ok := strings.CutSuffix(rest, "/crl")
	return mesh, ok && mesh != "" && !strings.Contains(mesh, "/")
}

// serveCRL answers a mesh's CRL on global: signed by the root of its enabled builtin backend,
// listing the revoked zone intermediates. Public, like the trust bundle.
func (cp *ControlPlane) serveCRL(w http.ResponseWriter, r *http.Request, mesh string) {
	m := cp.rec.Model()
	var ms *api.Mesh
	if m != nil {
		if x := m.Mesh(mesh); x != nil {
			ms = x.Resource
		}
	}
	if ms == nil || !ms.Spec.MTLSEnabled() {
		writeTokenError(w, http.StatusNotFound, "Not found", "mesh "+mesh+" does not exist or has no mTLS")
		return
	}
	crl, err := cp.ids.CA().CRL(r.Context(), ms)
	if err != nil {
		cp.log.Error("mesh CRL", "mesh", mesh, "error", err)
		writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "cannot produce the CRL of mesh "+mesh+" right now; retry")
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	_, _ = w.Write(crl)
}
