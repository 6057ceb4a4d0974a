package explain

import (
	"errors"
	"fmt"
	"strings"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// httpRequest is the request as Envoy's router sees it, after the connection manager has
// normalised the path and host.
type httpRequest struct {
	method    string
	scheme    string
	authority string
	path      string              // :path, query included
	headers   map[string][]string // lower-case names, no pseudo-headers
	tls       bool
	peerCert  bool
}

// header returns every value of name joined with ",", as Envoy's header matchers see them.
func (r *httpRequest) header(name string) (string, bool) {
	switch name {
	case ":method":
		return r.method, true
	case ":path":
		return r.path, true
	case ":authority":
		return r.authority, true
	case ":scheme":
		return r.scheme, true
	}
	vs, ok := r.headers[name]
	if !ok {
		return "", false
	}
	return strings.Join(vs, ","), true
}

// first is the first value of name: what Envoy uses where a header is untrusted input (cluster
// and host rewrite headers).
func (r *httpRequest) first(name string) (string, bool) {
	if vs := r.headers[name]; len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

// pathOnly is :path without query and fragment (Envoy's PathUtil::removeQueryAndFragment).
func (r *httpRequest) pathOnly() string {
	if i := strings.IndexAny(r.path, "?#"); i >= 0 {
		return r.path[:i]
	}
	return r.path
}

func (r *httpRequest) query() string {
	if i := strings.IndexByte(r.path, '?'); i >= 0 {
		return r.path[i:]
	}
	return ""
}

// queryParam is the first value of a query parameter, undecoded: Envoy matches query
// parameters as they appear on the wire.
func (r *httpRequest) queryParam(name string) (string, bool) {
	q := strings.TrimPrefix(r.query(), "?")
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	for _, kv := range strings.Split(q, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if k == name {
			return v, true
		}
	}
	return "", false
}

// newHTTPRequest builds the router's view of req. A non-nil Action is the connection manager
// answering on its own (a rejected or redirected path).
func (e *explainer) newHTTPRequest(hcm *hcmv3.HttpConnectionManager, c conn) (*httpRequest, *Action, error) {
	req := e.req
	r := &httpRequest{method: req.Method, scheme: "http", headers: map[string][]string{}, tls: c.tls, peerCert: c.tls && (req.ClientCert || req.Source != nil)}
	if r.method == "" {
		r.method = "GET"
	}
	if c.tls {
		r.scheme = "https"
	}
	host := req.Host
	for _, h := range req.Headers {
		name := asciiLower(strings.TrimSpace(h.Name))
		switch {
		case name == "":
			return nil, nil, errors.New("explain: a header has an empty name")
		case name == "host" || name == ":authority":
			// HTTP/1's Host is HTTP/2's :authority; Envoy keeps only the latter.
			if host == "" {
				host = h.Value
			}
		case strings.HasPrefix(name, ":"):
			return nil, nil, fmt.Errorf("explain: header %q: set the method, path and host through their own fields", h.Name)
		default:
			r.headers[name] = append(r.headers[name], h.Value)
		}
	}
	if host == "" {
		return nil, nil, errors.New("explain: an HTTP listener needs a Host")
	}
	r.authority = e.normaliseHost(hcm, host)

	path := req.Path
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return nil, nil, fmt.Errorf("explain: path %q must start with /", path)
	}
	if i := strings.IndexByte(path, '#'); i >= 0 {
		e.out.note("the fragment %q is not sent to servers and was dropped", path[i:])
		path = path[:i]
	}
	p, q := path, ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		p, q = path[:i], path[i:]
	}
	p, act := e.normalisePath(hcm, p, q)
	r.path = p + q
	return r, act, nil
}

// normaliseHost applies the connection manager's host rewrites, which change :authority for
// everything downstream of it (routing, header matches, redirects, the upstream request).
func (e *explainer) normaliseHost(hcm *hcmv3.HttpConnectionManager, host string) string {
	if hcm.GetStripTrailingHostDot() {
		h := stripPort(host)
		if strings.HasSuffix(h, ".") {
			host = strings.TrimSuffix(h, ".") + host[len(h):]
		}
	}
	switch {
	case hcm.GetStripAnyHostPort():
		host = stripPort(host)
	case hcm.GetStripMatchingHostPort():
		if p, ok := hostPort(host); ok && p == fmt.Sprint(e.req.Port) {
			host = stripPort(host)
		}
	}
	return host
}

// normalisePath is the connection manager's path handling, in Envoy's order: escaped slashes
// first, then RFC 3986 normalisation, then merging slashes. It returns the new path, or an
// Action when Envoy answers itself (400 for a rejected path, 307 to the unescaped one).
func (e *explainer) normalisePath(hcm *hcmv3.HttpConnectionManager, p, query string) (string, *Action) {
	orig := p
	redirect := false
	if hasEscapedSlash(p) {
		switch hcm.GetPathWithEscapedSlashesAction() {
		case hcmv3.HttpConnectionManager_REJECT_REQUEST:
			e.out.Reason = "the path contains an escaped slash (%2F or %5C) and the connection manager rejects those"
			return p, &Action{DirectResponse: &DirectResponse{Status: 400}}
		case hcmv3.HttpConnectionManager_UNESCAPE_AND_REDIRECT:
			p, redirect = unescapeSlashes(p), true
		case hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD:
			p = unescapeSlashes(p)
		}
	}
	if hcm.GetNormalizePath().GetValue() {
		p = canonicalPath(p)
	}
	if hcm.GetMergeSlashes() {
		p = mergeSlashes(p)
	}
	if redirect {
		e.out.Reason = "the path contains escaped slashes: the connection manager redirects to the unescaped path"
		return p, &Action{Redirect: &Redirect{Location: p + query, StatusCode: 307, Path: p}}
	}
	if p != orig {
		e.out.note("the connection manager normalised the path %q to %q", orig, p)
	}
	return p, nil
}

func hasEscapedSlash(p string) bool {
	l := asciiLower(p)
	return strings.Contains(l, "%2f") || strings.Contains(l, "%5c")
}

func unescapeSlashes(p string) string {
	return strings.NewReplacer("%2F", "/", "%2f", "/", "%5C", `\`, "%5c", `\`).Replace(p)
}

// canonicalPath approximates the URL canonicalisation Envoy's normalize_path uses (Chromium's):
// percent-encoded unreserved characters are decoded, other escapes upper-cased, backslashes
// become slashes, and dot segments are removed (RFC 3986 section 5.2.4).
func canonicalPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			d := unhex(p[i+1])<<4 | unhex(p[i+2])
			if isUnreserved(d) {
				b.WriteByte(d)
			} else {
				b.WriteString("%" + strings.ToUpper(p[i+1:i+3]))
			}
			i += 2
		case c == '\\':
			b.WriteByte('/')
		default:
			b.WriteByte(c)
		}
	}
	return removeDotSegments(b.String())
}

func removeDotSegments(p string) string {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

func mergeSlashes(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
