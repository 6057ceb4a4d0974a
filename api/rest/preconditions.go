package rest

import (
	"net/http"
	"strings"

	"github.com/meshgate/meshgate/store"
)

// preconditions are a write's If-Match / If-None-Match headers (RFC 9110 §13). ETags are the
// record versions, so If-Match: "<version>" is optimistic concurrency, and If-None-Match: *
// makes a PUT create-only.
type preconditions struct {
	ifMatch, ifNoneMatch []string
}

func parsePreconditions(r *http.Request) preconditions {
	return preconditions{ifMatch: r.Header.Values("If-Match"), ifNoneMatch: r.Header.Values("If-None-Match")}
}

// check evaluates the preconditions against the current record (nil when absent).
func (p preconditions) check(t target, cur *store.Record) error {
	if len(p.ifMatch) > 0 {
		if cur == nil {
			return preconditionFailed("If-Match: %s does not exist", t)
		}
		if !etagMatches(p.ifMatch, cur.Version) {
			return preconditionFailed("If-Match: %s is at version %s", t, etag(cur.Version))
		}
	}
	if len(p.ifNoneMatch) > 0 && cur != nil && etagMatches(p.ifNoneMatch, cur.Version) {
		return preconditionFailed("If-None-Match: %s already exists at version %s", t, etag(cur.Version))
	}
	return nil
}

// etagMatches reports whether any listed entity tag (or `*`) names version. Weak tags are
// compared by their opaque part: versions are exact, so weak and strong mean the same here.
func etagMatches(headers []string, version int64) bool {
	want := etag(version)
	for _, h := range headers {
		for _, tag := range strings.Split(h, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == want {
				return true
			}
		}
	}
	return false
}
