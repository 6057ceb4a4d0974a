package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/api/rest"
	"github.com/meshgate/meshgate/api/rest/wire"
	"github.com/meshgate/meshgate/ca/tokens"
	"github.com/meshgate/meshgate/store"
)

// withTokenAPI serves the token endpoints in front of the resource API, behind the same
// admin-token rule.
func (cp *ControlPlane) withTokenAPI(next http.Handler) http.Handler {
	issue := rest.RequireAdmin(cp.cfg.AdminToken, postOnly(cp.issueToken))
	revoke := rest.RequireAdmin(cp.cfg.AdminToken, postOnly(cp.revokeToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case client.DataplaneTokenPath:
			issue.ServeHTTP(w, r)
		case client.RevokeDataplaneTokenPath:
			revoke.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (cp *ControlPlane) issueToken(w http.ResponseWriter, r *http.Request) {
	var req client.DataplaneTokenRequest
	if !decodeTokenRequest(w, r, &req) {
		return
	}
	var validFor time.Duration
	if req.ValidFor != "" {
		d, err := time.ParseDuration(req.ValidFor)
		if err != nil {
			writeTokenError(w, http.StatusBadRequest, "Bad request", fmt.Sprintf("validFor %q: want a duration such as 24h or 8760h", req.ValidFor))
			return
		}
		validFor = d
	}
	token, err := cp.tokens.Issue(r.Context(), tokens.IssueRequest{Mesh: req.Mesh, Name: req.Name, ValidFor: validFor})
	if err != nil {
		cp.tokenFailure(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(token))
}

func (cp *ControlPlane) revokeToken(w http.ResponseWriter, r *http.Request) {
	var req client.RevokeDataplaneTokenRequest
	if !decodeTokenRequest(w, r, &req) {
		return
	}
	if err := cp.tokens.Revoke(r.Context(), req.Mesh, req.ID); err != nil {
		cp.tokenFailure(w, r, err)
		return
	}
	// The streams the token opened end before the answer: it gets no further configuration.
	if cp.rec != nil && cp.rec.keys != nil && cp.rec.keys.streams != nil {
		cp.rec.keys.streams.recheck(r.Context(), req.Mesh)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (cp *ControlPlane) tokenFailure(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, tokens.ErrBadRequest) {
		writeTokenError(w, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	if errors.Is(err, tokens.ErrUnknownMesh) {
		writeTokenError(w, http.StatusNotFound, "Not found", err.Error())
		return
	}
	if errors.Is(err, store.ErrUnavailable) {
		// As the resource API answers: the database is down or restarting, come back later.
		cp.log.Warn("api request failed: the store is unreachable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "2")
		writeTokenError(w, http.StatusServiceUnavailable, "Store unavailable", fmt.Sprintf("the store is unreachable: %v; retry", err))
		return
	}
	cp.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeTokenError(w, http.StatusInternalServerError, "Internal error", err.Error())
}

// decodeTokenRequest reads a small JSON or YAML body strictly (unknown fields are errors, as
// everywhere in meshgate). Content types are those the resource API takes, curl -d's form
// type included: the body says what it is.
func decodeTokenRequest(w http.ResponseWriter, r *http.Request, into any) bool {
	if ct := r.Header.Get("Content-Type"); !acceptedBodyType(ct) {
		writeTokenError(w, http.StatusUnsupportedMediaType, "Unsupported media type", "send application/json or application/yaml, not "+ct)
		return false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeTokenError(w, http.StatusBadRequest, "Bad request", "request body: "+err.Error())
		return false
	}
	if raw, err = yaml.YAMLToJSON(raw); err != nil {
		writeTokenError(w, http.StatusBadRequest, "Bad request", "request body: "+err.Error())
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		writeTokenError(w, http.StatusBadRequest, "Bad request", "request body: "+err.Error())
		return false
	}
	return true
}

func acceptedBodyType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case wire.ContentJSON, "text/plain", "application/x-www-form-urlencoded", "application/octet-stream":
		return true
	}
	return strings.HasSuffix(mt, "/yaml") || strings.HasSuffix(mt, "/x-yaml")
}

func postOnly(fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeTokenError(w, http.StatusMethodNotAllowed, "Method not allowed", r.Method+" is not allowed here; allowed: POST")
			return
		}
		fn(w, r)
	})
}

// writeTokenError writes Kuma's error body, which the API client decodes.
func writeTokenError(w http.ResponseWriter, code int, title, details string) {
	w.Header().Set("Content-Type", wire.ContentJSON)
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(wire.Error{Title: title, Details: details})
}
