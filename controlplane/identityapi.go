package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
)

// withIdentityAPI serves GET /dataplane/identity: the current X509-SVID (with its private key)
// of the dataplane whose token the request carries, and the trust bundle of every mTLS mesh.
// It is what `meshgate agent` serves the SPIFFE Workload API from and writes gRPC's
// certificate files with. The token is checked exactly as an xDS stream's is, and a dataplane
// only ever receives its own identity. A private key never crosses a plain-text connection
// beyond this machine: the endpoint answers only over HTTPS or from loopback.
//
// The dataplane is the one the token names; `?mesh=M&name=N` names it for a token that does
// not (a pod's ServiceAccount token in Kubernetes mode) and must agree with one that does.
func (cp *ControlPlane) withIdentityAPI(next http.Handler) http.Handler {
	verify := cp.tokens.Verify
	if cp.kube != nil {
		verify = cp.kube.auth(cp.store, cp.tokens.Verify).verify
	}
	svids := newWorkloadSVIDs(cp.rec.ids, nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != client.DataplaneIdentityPath {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeTokenError(w, http.StatusMethodNotAllowed, "Method not allowed", "GET the dataplane's identity")
			return
		}
		if !privateChannel(r) {
			writeTokenError(w, http.StatusForbidden, "Forbidden",
				"the dataplane identity holds a private key: it is served only over HTTPS (the API's TLS port) or on loopback")
			return
		}
		mesh, name, ok := cp.identityCaller(w, r, verify)
		if !ok {
			return
		}
		cp.serveIdentity(w, r, svids, mesh, name)
	})
}

// identityCaller authenticates the request and returns the dataplane it may ask for.
func (cp *ControlPlane) identityCaller(w http.ResponseWriter, r *http.Request,
	verify func(ctx context.Context, token, mesh, name string) (tokens.Info, error)) (string, string, bool) {
	const hint = "send the dataplane's token as \"Authorization: Bearer <token>\" " +
		"(tokens come from `meshgate token dataplane --mesh M --name N`)"
	token, ok := wire.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		writeTokenError(w, http.StatusUnauthorized, "Unauthorized", "no dataplane token: "+hint)
		return "", "", false
	}
	mesh, name := r.URL.Query().Get("mesh"), r.URL.Query().Get("name")
	if mesh == "" && name == "" {
		info, err := tokens.ParseUnverified(token)
		if err != nil || info.Mesh == "" || info.Name == "" {
			writeTokenError(w, http.StatusUnauthorized, "Unauthorized",
				"the token names no dataplane: "+hint+", or name the dataplane with ?mesh=M&name=N")
			return "", "", false
		}
		mesh, name = info.Mesh, info.Name
	}
	if _, err := verify(r.Context(), token, mesh, name); err != nil {
		switch {
		case errors.Is(err, tokens.ErrWrongDataplane):
			writeTokenError(w, http.StatusForbidden, "Forbidden", "dataplane "+mesh+"/"+name+": "+err.Error())
		case errors.Is(err, tokens.ErrMissing), errors.Is(err, tokens.ErrInvalid),
			errors.Is(err, tokens.ErrExpired), errors.Is(err, tokens.ErrRevoked):
			writeTokenError(w, http.StatusUnauthorized, "Unauthorized", "dataplane "+mesh+"/"+name+": "+err.Error()+"; "+hint)
		default:
			cp.log.Error("identity endpoint: cannot check a dataplane token", "mesh", mesh, "dataplane", name, "error", err)
			w.Header().Set("Retry-After", meshRetryAfter)
			writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "cannot check the token right now; retry")
		}
		return "", "", false
	}
	return mesh, name, true
}

// serveIdentity answers with an authenticated dataplane's identity.
func (cp *ControlPlane) serveIdentity(w http.ResponseWriter, r *http.Request, svids *workloadSVIDs, mesh, name string) {
	m := cp.rec.Model()
	if m == nil {
		w.Header().Set("Retry-After", meshRetryAfter)
		writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "the control plane is starting: no configuration is built yet; retry")
		return
	}
	built := m.Mesh(mesh)
	var dp *api.Dataplane
	if built != nil {
		dp = built.Dataplane(name)
	}
	if dp == nil {
		cp.identityOfUnbuilt(w, r, mesh, name)
		return
	}
	if !built.MTLSEnabled() {
		writeTokenError(w, http.StatusConflict, "Conflict",
			"mesh "+mesh+" has no mTLS, so its dataplanes have no identity: enable spec.mtls on the Mesh")
		return
	}
	unavailable := func(what string, err error) {
		cp.log.Error("identity endpoint: "+what, "mesh", mesh, "dataplane", name, "error", err)
		w.Header().Set("Retry-After", meshRetryAfter)
		writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "dataplane "+mesh+"/"+name+": "+what+": "+err.Error()+"; retry")
	}
	bundle, err := cp.rec.ids.Bundle(r.Context(), built)
	if err != nil {
		unavailable("the mesh CA is not ready", err)
		return
	}
	svid, err := svids.get(r.Context(), svidRequest{Mesh: built, Dataplane: dp, Bundle: bundle})
	if errors.Is(err, errNoService) {
		writeTokenError(w, http.StatusConflict, "Conflict", err.Error())
		return
	}
	if err != nil {
		unavailable("the mesh CA cannot issue", err)
		return
	}
	out := client.DataplaneIdentity{
		Mesh: mesh, Name: name, SPIFFEID: svid.id.String(), CertificateChain: svid.chain, PrivateKey: svid.key,
		NotAfter: svid.notAfter.UTC(), RenewAt: svid.renewAt.UTC(),
		Bundles: cp.identityBundles(r.Context(), m, mesh, bundle),
	}
	w.Header().Set("Content-Type", wire.ContentJSON)
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

// identityOfUnbuilt answers for a dataplane the last build does not have: 404 if the store
// has none either, 503 if it was written since (the next rebuild will have it).
func (cp *ControlPlane) identityOfUnbuilt(w http.ResponseWriter, r *http.Request, mesh, name string) {
	_, err := cp.store.Get(r.Context(), store.Key{Kind: string(api.KindDataplane), Mesh: mesh, Name: name})
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeTokenError(w, http.StatusNotFound, "Not found", "dataplane "+mesh+"/"+name+" not found: apply its Dataplane resource first")
	case err != nil:
		cp.log.Error("identity endpoint: reading the store", "mesh", mesh, "dataplane", name, "error", err)
		w.Header().Set("Retry-After", meshRetryAfter)
		writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "the store is unavailable; retry")
	default:
		w.Header().Set("Retry-After", meshRetryAfter)
		writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "dataplane "+mesh+"/"+name+" is not built yet; retry shortly")
	}
}

// identityBundles is the own mesh's bundle and every other mTLS mesh's (roots are public). A
// mesh whose CA cannot be read is left out, as for cross-mesh listeners: only its callers fail.
func (cp *ControlPlane) identityBundles(ctx context.Context, m *model.Model, own, ownBundle string) map[string]string {
	out := map[string]string{own: ownBundle}
	for _, mesh := range m.Meshes() {
		if mesh.Name == own || !mesh.MTLSEnabled() {
			continue
		}
		b, err := cp.rec.ids.Bundle(ctx, mesh)
		if err != nil {
			cp.log.Warn("identity endpoint: a mesh's bundle is left out", "mesh", mesh.Name, "error", err)
			continue
		}
		if b != "" {
			out[mesh.Name] = b
		}
	}
	return out
}

// privateChannel: the request came over TLS, or from this machine.
func privateChannel(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
