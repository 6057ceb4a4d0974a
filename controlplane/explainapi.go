package controlplane

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/api/rest"
	"github.com/meshgate/meshgate/api/rest/wire"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/render"
)

// withExplainAPI serves GET /meshes/{mesh}/dataplanes/{name}/explain (client.ExplainQuery
// names the parameters): `meshgate explain` of one request on what this control plane serves
// the dataplane now. On a zone that is the only honest explanation: the routes come from
// global and other zones' services from their ZoneIngresses, none of which a user's files
// hold. It reveals configuration as the xds view does, so it needs the admin token.
func (cp *ControlPlane) withExplainAPI(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(client.ExplainPathPattern, rest.RequireAdmin(cp.cfg.AdminToken, http.HandlerFunc(cp.explainDataplane)))
	mux.Handle("/", next)
	return mux
}

func (cp *ControlPlane) explainDataplane(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeTokenError(w, http.StatusMethodNotAllowed, "Method not allowed", r.Method+" is not allowed here; allowed: GET")
		return
	}
	mesh, name := r.PathValue("mesh"), r.PathValue("name")
	req, err := explainRequest(r)
	if err != nil {
		writeTokenError(w, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	if cp.mode == ModeGlobal {
		// Global holds copies of the zones' dataplanes but serves none of them; what it would
		// render for one (without its zone's view of other zones) is not what the proxy gets.
		writeTokenError(w, http.StatusConflict, "Conflict", cp.notServedOnGlobal(mesh, name).Error())
		return
	}
	if follow, _ := strconv.ParseBool(r.URL.Query().Get("follow")); follow {
		hops, err := cp.followServed(r.Context(), mesh, name, req)
		if err != nil {
			writeTokenError(w, http.StatusBadRequest, "Bad request", err.Error())
			return
		}
		w.Header().Set("Content-Type", wire.ContentJSON)
		_ = json.NewEncoder(w).Encode(struct {
			Hops []render.Hop `json:"hops"`
		}{hops})
		return
	}
	out, err := cp.rec.Output(r.Context(), names.Node(mesh, name))
	if err != nil {
		cp.log.Error("explain", "dataplane", mesh+"/"+name, "error", err)
		writeTokenError(w, http.StatusServiceUnavailable, "Unavailable", fmt.Sprintf("dataplane %s/%s: %v", mesh, name, err))
		return
	}
	if out == nil {
		// A zone's dataplane on global is listed there but served (and explained) by its zone.
		writeTokenError(w, http.StatusNotFound, "Not found", fmt.Sprintf("dataplane %s/%s: not found among the dataplanes this control plane serves", mesh, name))
		return
	}
	res, err := explain.Explain(out.Resources, req)
	if err != nil {
		writeTokenError(w, http.StatusBadRequest, "Bad request", fmt.Sprintf("dataplane %s/%s: %v", mesh, name, err))
		return
	}
	w.Header().Set("Content-Type", wire.ContentJSON)
	_ = json.NewEncoder(w).Encode(res)
}

// explainRequest reads the request to explain from the query, as client.ExplainQuery writes it.
func explainRequest(r *http.Request) (explain.Request, error) {
	q := r.URL.Query()
	req := explain.Request{Host: q.Get("host"), Path: q.Get("path"), Method: q.Get("method"),
		SNI: q.Get("sni"), Address: q.Get("address"), ALPN: q["alpn"]}
	port, err := strconv.ParseUint(q.Get("port"), 10, 32)
	if err != nil || port == 0 {
		return req, fmt.Errorf("port %q: want the listener port the request arrives on", q.Get("port"))
	}
	req.Port = uint32(port)
	for _, flag := range []struct {
		name string
		v    *bool
	}{{"tls", &req.TLS}, {"plaintext", &req.Plaintext}} {
		if s := q.Get(flag.name); s != "" {
			if *flag.v, err = strconv.ParseBool(s); err != nil {
				return req, fmt.Errorf("%s %q: want true or false", flag.name, s)
			}
		}
	}
	for _, h := range q["header"] {
		hdr, err := explain.ParseHeader(h)
		if err != nil {
			return req, err
		}
		req.Headers = append(req.Headers, hdr)
	}
	if uris := q["sourceURI"]; len(uris) > 0 {
		req.Source = &explain.Peer{URIs: uris}
	}
	return req, nil
}
