package rest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// Secret data is left out of what the API returns (GET, list, the echo of a PUT) unless the
// request says `?reveal=true`: an admin reading Secrets to see which exist, or a tool dumping a
// mesh's resources, should not put keys on a terminal or in a log by default. The admin token
// is required either way.

// redactedJSON is the placeholder as a JSON string, written as is: json.Marshal would escape
// its angle brackets (`\u003c`), which nobody reading a response wants to decode by eye.
var redactedJSON = json.RawMessage(strconv.Quote(wire.RedactedData))

// checkReveal rejects a `reveal` that is not a boolean, before any work is done.
func checkReveal(r *http.Request) error {
	if v := r.URL.Query().Get(wire.RevealParam); v != "" {
		if _, err := strconv.ParseBool(v); err != nil {
			return fieldInvalid(wire.RevealParam, "must be true or false, not %q", v)
		}
	}
	return nil
}

// revealed reports whether the request asked for Secret data.
func revealed(r *http.Request) bool {
	ok, _ := strconv.ParseBool(r.URL.Query().Get(wire.RevealParam))
	return ok
}

// redactFields replaces a Secret's data, in place, unless the request asked for it; it reports
// whether data was left in, so the response can be kept out of caches.
func redactFields(r *http.Request, fields map[string]json.RawMessage) (holdsData bool) {
	var kind string
	if json.Unmarshal(fields["type"], &kind) != nil || kind != string(api.KindSecret) {
		return false
	}
	if _, ok := fields["data"]; !ok {
		return false
	}
	if revealed(r) {
		return true
	}
	fields["data"] = redactedJSON
	return false
}

// noStore keeps a response that holds Secret data out of every cache on the way.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}

// explainRedacted rewrites the base64 error of a Secret whose data is the redaction
// placeholder: a body copied from a redacted read and sent back must fail with a reason that
// says so, never be stored as "<redacted>".
func explainRedacted(body []byte, errs api.ErrorList) api.ErrorList {
	if !bytes.Contains(body, []byte(wire.RedactedData)) {
		return errs
	}
	for i, e := range errs {
		if e.Field == "data" && isSecretName(e.Resource) {
			errs[i].Message = "is " + strconv.Quote(wire.RedactedData) + ", the placeholder API reads return instead of " +
				"a Secret's data; send the data itself (read it with ?" + wire.RevealParam + "=true, or " +
				"`meshgate get secret NAME --reveal`)"
		}
	}
	return errs
}

func isSecretName(displayName string) bool {
	return strings.HasPrefix(displayName, string(api.KindSecret)+" ")
}
