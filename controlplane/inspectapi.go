package controlplane

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"time"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/api/rest"
	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/controlplane/console"
	"github.com/meshgate/meshgate/model"
	xdsserver "github.com/meshgate/meshgate/xds/server"
)

// withInspectAPI serves the read-only views that `meshgate inspect dataplanes` and the console
// (consoleapi.go) read: GET /inspect/dataplanes[?mesh=M] and the console's summaries. They
// show what the cluster runs, so they sit behind the admin token like the resource API.
func (cp *ControlPlane) withInspectAPI(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	get := func(pattern string, f http.HandlerFunc) {
		mux.Handle(pattern, rest.RequireAdmin(cp.cfg.AdminToken, onlyGet(f)))
	}
	get(client.InspectDataplanesPath, cp.serveDataplaneList)
	cp.registerConsoleAPI(get)
	mux.Handle(console.Path, consoleHandler())
	mux.Handle(strings.TrimSuffix(console.Path, "/"), http.RedirectHandler(console.Path, http.StatusMovedPermanently))
	mux.Handle("/", next)
	return mux
}

// onlyGet refuses anything but GET and HEAD: these views are read-only.
func onlyGet(f http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeTokenError(w, http.StatusMethodNotAllowed, "Method not allowed", r.Method+" is not allowed here; allowed: GET")
			return
		}
		f(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", wire.ContentJSON)
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (cp *ControlPlane) serveDataplaneList(w http.ResponseWriter, r *http.Request) {
	mesh := r.URL.Query().Get("mesh")
	m := cp.rec.Model()
	if mesh != "" && (m == nil || m.Mesh(mesh) == nil) {
		writeTokenError(w, http.StatusNotFound, "Not found", "mesh "+mesh+": not found")
		return
	}
	writeJSON(w, cp.dataplaneSummaries(r.Context(), m, mesh))
}

// dataplaneSummaries joins the reconciler's dataplanes with the xDS server's streams, sorted by
// mesh and name; mesh "" means every mesh.
func (cp *ControlPlane) dataplaneSummaries(ctx context.Context, m *model.Model, mesh string) []client.DataplaneSummary {
	streams := map[string]xdsserver.NodeStatus{}
	for _, ns := range cp.xds.Nodes() {
		streams[ns.Node] = ns
	}
	replica := ""
	if cp.lease != nil {
		replica = cp.lease.id
	}
	out := []client.DataplaneSummary{}
	for _, st := range cp.rec.Dataplanes() {
		if mesh != "" && st.Mesh != mesh {
			continue
		}
		s := client.DataplaneSummary{Mesh: st.Mesh, Name: st.Name, Type: client.DataplaneSidecar,
			Online: st.Connected, Error: st.Error, Diagnostics: len(st.Diagnostics)}
		var dp *api.Dataplane
		var mm *model.Mesh
		if m != nil {
			if mm = m.Mesh(st.Mesh); mm != nil {
				dp = mm.Dataplane(st.Name)
			}
		}
		if dp != nil {
			s.Type = dataplaneType(dp)
			s.Zone = dp.Meta.Labels[api.ZoneTag]
		}
		if ns, ok := streams[st.Node]; ok {
			if ns.Streams > 0 {
				s.Replica = replica
			}
			s.LastACK, s.NACK, s.Rejected = ackState(ns)
			s.Applying = ns.Streams > 0 && applying(ns)
		}
		if st.Connected && dp != nil && mm.MTLSEnabled() {
			s.CertExpiry = cp.certExpiry(ctx, mm, dp)
		}
		out = append(out, s)
	}
	return out
}

func dataplaneType(dp *api.Dataplane) string {
	switch {
	case dp.IsProxyless():
		return client.DataplaneProxyless
	case dp.Spec.Networking.Gateway == nil:
		return client.DataplaneSidecar
	case dp.Spec.Networking.Gateway.Type == api.GatewayDelegated:
		return client.DataplaneDelegatedGateway
	default:
		return client.DataplaneBuiltinGateway
	}
}

// ackState is the newest ACK of any type and the NACK to show: a rejection still in force wins
// over an older one that later versions replaced.
func ackState(ns xdsserver.NodeStatus) (last time.Time, nack string, rejected bool) {
	var at time.Time
	for _, t := range ns.Types {
		if t.AckedAt.After(last) {
			last = t.AckedAt
		}
		if t.LastNACK == nil {
			continue
		}
		if (t.Rejected && !rejected) || (t.Rejected == rejected && t.LastNACK.At.After(at)) {
			nack, at, rejected = t.LastNACK.Message, t.LastNACK.At, t.Rejected
		}
	}
	return last, nack, rejected
}

// applying: some type's newest response awaits the dataplane's answer. A NACK leaves LastNACK
// at the sent version with Rejected set, so that is answered too.
func applying(ns xdsserver.NodeStatus) bool {
	for _, t := range ns.Types {
		if t.SentVersion != "" && t.SentVersion != t.AckedVersion && !t.Rejected {
			return true
		}
	}
	return false
}

// certExpiry reads the NotAfter of the certificate the identity service holds for a connected
// dataplane (it was issued when the dataplane connected; For returns it from the cache).
func (cp *ControlPlane) certExpiry(ctx context.Context, mesh *model.Mesh, dp *api.Dataplane) time.Time {
	id, _, err := dataplaneIdentity(ctx, cp.rec.ids, mesh, dp)
	if err != nil || id == nil {
		return time.Time{}
	}
	block, _ := pem.Decode([]byte(id.CertificateChain))
	if block == nil {
		return time.Time{}
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return time.Time{}
	}
	return cert.NotAfter
}
