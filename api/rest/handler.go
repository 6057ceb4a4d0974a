// Package rest is meshgate's HTTP API: Kuma-style REST over the store (`/meshes`,
// `/meshes/{mesh}/{plural}/{name}`), the dataplane views (`xds`, `inspect`) and POST /apply,
// which writes a multi-document body in one transaction. Paths and bodies are defined in
// api/rest/wire, which the Go client shares.
package rest

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/meshgate/meshgate/store"
)

// MaxBodyBytes caps request bodies: far above any real configuration, low enough that a
// runaway client cannot make the control plane buffer without bound.
const MaxBodyBytes = 4 << 20

// Options configure the handler.
type Options struct {
	Store store.Store
	// Render returns what `meshgate render` prints for a dataplane (a *render.Document or any
	// JSON-able value); an error wrapping store.ErrNotFound becomes 404.
	Render func(ctx context.Context, mesh, name string) (any, error)
	// Inspect returns the control plane's view of a dataplane (diagnostics, xDS stream status);
	// same error convention.
	Inspect func(ctx context.Context, mesh, name string) (any, error)
	// AdminToken, when non-empty, is required on every request as `Authorization: Bearer <token>`.
	AdminToken string
	// Writable, when set, is asked before a resource is created, replaced or deleted, with the
	// record it replaces (nil for a new one); its error refuses the whole request with 403 and
	// the error's text (a zone's copy of a global resource, say).
	Writable func(key store.Key, cur *store.Record) error
	Logger   *slog.Logger
}

type handler struct {
	store store.Store
	opts  Options
	log   *slog.Logger
	// writeMu serialises this API's writes, so that the cross-resource check a write makes
	// against the store still holds when it commits. Writers outside this process (another
	// replica, the --resources file sync) are caught by expected versions and retried.
	writeMu sync.Mutex
}

// NewHandler returns the API as one http.Handler.
func NewHandler(opts Options) http.Handler {
	h := &handler{store: opts.Store, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.Handle("/{$}", methods{http.MethodGet: h.wrap(h.index)})
	mux.Handle("/apply", methods{http.MethodPost: h.wrap(h.apply)})
	mux.Handle("/{plural}", methods{http.MethodGet: h.wrap(h.listAll)})
	mux.Handle("/{plural}/{name}", methods{
		http.MethodGet:    h.wrap(h.getGlobal),
		http.MethodPut:    h.wrap(h.putGlobal),
		http.MethodDelete: h.wrap(h.deleteGlobal),
	})
	mux.Handle("/meshes/{mesh}/{plural}", methods{http.MethodGet: h.wrap(h.listMesh)})
	mux.Handle("/meshes/{mesh}/{plural}/{name}", methods{
		http.MethodGet:    h.wrap(h.getInMesh),
		http.MethodPut:    h.wrap(h.putInMesh),
		http.MethodDelete: h.wrap(h.deleteInMesh),
	})
	mux.Handle("/meshes/{mesh}/dataplanes/{name}/xds", methods{http.MethodGet: h.wrap(h.dataplaneView("xds", opts.Render))})
	mux.Handle("/meshes/{mesh}/dataplanes/{name}/inspect", methods{http.MethodGet: h.wrap(h.dataplaneView("inspect", opts.Inspect))})
	mux.Handle("/", h.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return notFound("no such endpoint: %s", r.URL.Path)
	}))
	return h.authenticate(mux)
}

// methods dispatches on the request method itself rather than through ServeMux method
// patterns, so that a wrong method gets a Kuma-style JSON 405 instead of the mux's plain text.
type methods map[string]http.Handler

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if h, ok := m[method]; ok {
		h.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Allow", m.allow())
	writeError(w, r, &apiError{status: http.StatusMethodNotAllowed, title: "Method not allowed",
		details: r.Method + " is not allowed here; allowed: " + m.allow()})
}

func (m methods) allow() string {
	var out string
	for _, verb := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if _, ok := m[verb]; ok {
			if out != "" {
				out += ", "
			}
			out += verb
			if verb == http.MethodGet {
				out += ", " + http.MethodHead
			}
		}
	}
	return out
}

// wrap turns a handler that returns an error into an http.Handler that reports it.
func (h *handler) wrap(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := checkFormat(r)
		if err == nil {
			err = checkReveal(r)
		}
		if err == nil {
			err = fn(w, r)
		}
		if err != nil {
			h.fail(w, r, err)
		}
	})
}
