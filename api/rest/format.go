package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/meshgate/meshgate/api/rest/wire"
)

// wantsYAML decides the response format: `?format=` first (handy in a browser or curl), then
// the first JSON or YAML media type in Accept; JSON otherwise. An unknown ?format falls back
// to JSON here and is rejected by checkFormat, which runs before any work is done.
func wantsYAML(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "yaml":
		return true
	case "json":
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch {
		case isYAML(mt):
			return true
		case mt == wire.ContentJSON:
			return false
		}
	}
	return false
}

func isYAML(mt string) bool {
	switch mt {
	case wire.ContentYAML, "application/x-yaml", "text/yaml", "text/x-yaml":
		return true
	}
	return false
}

func checkFormat(r *http.Request) error {
	switch f := r.URL.Query().Get("format"); f {
	case "", "json", "yaml":
		return nil
	default:
		return fieldInvalid("format", "must be json or yaml, not %q", f)
	}
}

// writeJSON writes a JSON document, converted to YAML when the client asked for it.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	ct := wire.ContentJSON
	if wantsYAML(r) {
		if y, err := wire.JSONToYAML(body); err == nil {
			body, ct = y, wire.ContentYAML
		}
	} else {
		body = append(body, '\n')
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeValue writes v as JSON without HTML escaping: responses are JSON (nosniff), never HTML,
// and `<token>` or a Secret's "<redacted>" should read as written, not as \u003c...\u003e.
func writeValue(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = enc.Encode(wire.Error{Title: "Internal error", Details: "encoding the response: " + err.Error()})
	}
	writeJSON(w, r, status, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// readBody reads a resource body of at most MaxBodyBytes. The decoder reads YAML, of which JSON
// is a subset, so the Content-Type only has to be one of the two (or absent: curl -d sends a
// form type, which is accepted for the same reason kubectl accepts it: the body says what it is).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !(mt == wire.ContentJSON || isYAML(mt) || mt == "text/plain" ||
			mt == "application/x-www-form-urlencoded" || mt == "application/octet-stream") {
			return nil, &apiError{status: http.StatusUnsupportedMediaType, title: "Unsupported media type",
				details: "send application/json or application/yaml, not " + ct}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	return body, nil
}
