package controlplane

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/api/rest"
	"github.com/meshgate/meshgate/ca/zonetokens"
)

// withZonesAPI serves, on a global control plane, POST /tokens/zone (admin: a token for `run
// --mode zone --zone-token-file`) and GET /zones (every zone's sync state).
func (cp *ControlPlane) withZonesAPI(next http.Handler) http.Handler {
	if cp.mode == ModeZone && cp.mz != nil {
		return cp.withZoneIngressTokens(next)
	}
	if cp.mode != ModeGlobal || cp.mz == nil {
		return next
	}
	issue := rest.RequireAdmin(cp.cfg.AdminToken, postOnly(cp.issueZoneToken))
	zones := rest.RequireAdmin(cp.cfg.AdminToken, http.HandlerFunc(cp.listZones))
	revoke := rest.RequireAdmin(cp.cfg.AdminToken, postOnly(func(w http.ResponseWriter, r *http.Request) {
		zone := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, client.ZonesPath+"/"), "/revoke")
		cp.revokeZone(w, r, zone)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == client.ZoneTokenPath:
			issue.ServeHTTP(w, r)
		case p == client.ZonesPath:
			zones.ServeHTTP(w, r)
		case strings.HasPrefix(p, client.ZonesPath+"/") && strings.HasSuffix(p, "/revoke") && strings.Count(p, "/") == 3:
			revoke.ServeHTTP(w, r)
		case r.Method == http.MethodGet && strings.HasSuffix(p, "/crl"):
			if mesh, ok := crlPath(p); ok {
				cp.serveCRL(w, r, mesh)
				return
			}
			next.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// withZoneIngressTokens serves, on a zone control plane, POST /tokens/zone-ingress (admin: the
// token a ZoneIngress's Envoy presents to this zone's xDS server).
func (cp *ControlPlane) withZoneIngressTokens(next http.Handler) http.Handler {
	issue := rest.RequireAdmin(cp.cfg.AdminToken, postOnly(func(w http.ResponseWriter, r *http.Request) {
		var req client.ZoneIngressTokenRequest
		if decodeTokenRequest(w, r, &req) {
			cp.writeZoneToken(w, r, cp.mz.ingressTokens, req.Name, req.ValidFor)
		}
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == client.ZoneIngressTokenPath {
			issue.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (cp *ControlPlane) issueZoneToken(w http.ResponseWriter, r *http.Request) {
	var req client.ZoneTokenRequest
	if decodeTokenRequest(w, r, &req) {
		cp.writeZoneToken(w, r, cp.mz.tokens, req.Zone, req.ValidFor)
	}
}

// writeZoneToken issues a zone or ZoneIngress token for subject and writes it as text.
func (cp *ControlPlane) writeZoneToken(w http.ResponseWriter, r *http.Request, is *zonetokens.Issuer, subject, validForText string) {
	var validFor time.Duration
	if validForText != "" {
		d, err := time.ParseDuration(validForText)
		if err != nil {
			writeTokenError(w, http.StatusBadRequest, "Bad request", "validFor "+validForText+": want a duration such as 8760h")
			return
		}
		validFor = d
	}
	token, err := is.Issue(r.Context(), zonetokens.IssueRequest{Zone: subject, ValidFor: validFor})
	switch {
	case errors.Is(err, zonetokens.ErrBadRequest):
		writeTokenError(w, http.StatusBadRequest, "Bad request", err.Error())
		return
	case err != nil:
		cp.log.Error("issuing a token", "for", subject, "error", err)
		writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", "cannot issue the token right now; retry")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(token))
}

func (cp *ControlPlane) listZones(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeTokenError(w, http.StatusMethodNotAllowed, "Method not allowed", "GET the zones")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"zones": cp.mz.server.Zones()})
}
