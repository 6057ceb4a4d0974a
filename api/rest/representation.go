package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/meshgate/meshgate/store"
)

// headKeys come first in a resource body, in this order, as kumactl prints them; the spec
// fields follow sorted.
var headKeys = []string{"type", "mesh", "name", "creationTime", "modificationTime", "labels"}

// resourceJSON is a record as the API returns it to r: the stored universal form plus the
// record's creation and modification times (which the decoder accepts back, so a GET can be
// edited and PUT again unchanged), with a Secret's data redacted unless r asked for it (see
// redact.go). holdsData reports that Secret data is in the body.
func resourceJSON(r *http.Request, rec store.Record) (body []byte, holdsData bool, err error) {
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(rec.Spec, &fields); err != nil {
		return nil, false, fmt.Errorf("stored %s %s/%s is not a JSON object: %w", rec.Kind, rec.Mesh, rec.Name, err)
	}
	holdsData = redactFields(r, fields)
	for k, t := range map[string]time.Time{"creationTime": rec.CreationTime, "modificationTime": rec.ModificationTime} {
		delete(fields, k)
		if !t.IsZero() {
			fields[k], _ = json.Marshal(t.UTC().Format(time.RFC3339Nano))
		}
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	write := func(k string) {
		v, ok := fields[k]
		if !ok {
			return
		}
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(k)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(v)
		delete(fields, k)
	}
	for _, k := range headKeys {
		write(k)
	}
	rest := make([]string, 0, len(fields))
	for k := range fields {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		write(k)
	}
	buf.WriteByte('}')
	// Re-compact: stored values may carry whitespace, and the body should be one canonical form.
	var out bytes.Buffer
	if err := json.Compact(&out, buf.Bytes()); err != nil {
		return nil, false, fmt.Errorf("stored %s %s/%s: %w", rec.Kind, rec.Mesh, rec.Name, err)
	}
	return out.Bytes(), holdsData, nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// writeResource writes one record with its version as the ETag. A redacted and a revealed read
// of one version share the ETag: it names the stored version, which is what If-Match checks.
func writeResource(w http.ResponseWriter, r *http.Request, status int, rec store.Record) error {
	body, holdsData, err := resourceJSON(r, rec)
	if err != nil {
		return err
	}
	if holdsData {
		noStore(w)
	}
	w.Header().Set("ETag", etag(rec.Version))
	writeJSON(w, r, status, body)
	return nil
}
