// Package console is meshgate's web console: static pages, embedded in the binary, that read
// the control plane's API views (/inspect/*, the dataplane xds/inspect/explain views and
// /meshes/{mesh}/ca) from the browser. It fetches nothing from anywhere else, so it works on a
// machine without internet, and it changes nothing: every call it makes is a GET.
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

// Path is where the console is served on the API port.
const Path = "/gui/"

//go:embed assets
var assets embed.FS

// Handler serves the console's files under Path. The files hold no state; the data they show
// comes from the API with the admin token the operator gives the page.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix(Path, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the console is read-only", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		// Nothing but this origin: no CDN, no inline script, no framing.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
