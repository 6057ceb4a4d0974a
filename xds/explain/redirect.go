package explain

import (
	"fmt"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// redirect computes the Location Envoy sends (RouteEntryImplBase::newUri).
func (e *explainer) redirect(rt *routev3.Route, ra *routev3.RedirectAction, r *httpRequest) (*Action, error) {
	out := &Redirect{StatusCode: redirectStatus(ra.GetResponseCode()), StripQuery: ra.GetStripQuery(), Port: ra.GetPortRedirect()}
	scheme := r.scheme
	switch s := ra.GetSchemeRewriteSpecifier().(type) {
	case *routev3.RedirectAction_HttpsRedirect:
		if s.HttpsRedirect {
			scheme = "https"
		}
	case *routev3.RedirectAction_SchemeRedirect:
		if s.SchemeRedirect != "" {
			scheme = s.SchemeRedirect
		}
	}
	if scheme != r.scheme {
		out.Scheme = scheme
	}

	port := ""
	if ra.GetPortRedirect() != 0 {
		port = fmt.Sprintf(":%d", ra.GetPortRedirect())
	}
	host := ra.GetHostRedirect()
	out.Host = host
	if host == "" {
		host = r.authority
		if p, ok := hostPort(host); ok {
			// The request's port goes when a new one is set, or when it was the old scheme's
			// default and the scheme changes.
			if port != "" || scheme != r.scheme && (r.scheme == "https" && p == "443" || r.scheme == "http" && p == "80") {
				host = stripPort(host)
			}
		}
	}

	path := r.path
	hasQuery := false
	switch p := ra.GetPathRewriteSpecifier().(type) {
	case *routev3.RedirectAction_PathRedirect:
		out.Path = p.PathRedirect
		if strings.Contains(p.PathRedirect, "?") {
			// A query in path_redirect replaces the request's and survives strip_query.
			path, hasQuery = p.PathRedirect, true
		} else {
			path = p.PathRedirect + r.query()
		}
	case *routev3.RedirectAction_PrefixRewrite:
		out.PrefixRewrite = p.PrefixRewrite
		matched := matchedPath(rt.GetMatch(), r)
		path = p.PrefixRewrite + r.path[len(matched):]
	case *routev3.RedirectAction_RegexRewrite:
		out.RegexRewrite = &RegexRewrite{Pattern: p.RegexRewrite.GetPattern().GetRegex(), Substitution: p.RegexRewrite.GetSubstitution()}
		np, err := e.replaceAll(out.RegexRewrite.Pattern, out.RegexRewrite.Substitution, r.pathOnly())
		if err != nil {
			return nil, fmt.Errorf("regex_rewrite: %w", err)
		}
		path = np + r.query()
	case *routev3.RedirectAction_PathRewrite:
		out.Path = p.PathRewrite
		path = p.PathRewrite + r.query()
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if ra.GetStripQuery() && !hasQuery {
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
	}
	out.Location = scheme + "://" + host + port + path
	return &Action{Redirect: out}, nil
}

func directResponse(d *routev3.DirectResponseAction) *DirectResponse {
	out := &DirectResponse{Status: int(d.GetStatus())}
	b := d.GetBody()
	switch {
	case b.GetInlineString() != "":
		out.Body = b.GetInlineString()
	case len(b.GetInlineBytes()) > 0:
		out.Body = string(b.GetInlineBytes())
	case b.GetFilename() != "":
		out.BodyFile = b.GetFilename()
	case b.GetEnvironmentVariable() != "":
		out.BodyFile = "$" + b.GetEnvironmentVariable()
	}
	return out
}

func redirectStatus(c routev3.RedirectAction_RedirectResponseCode) int {
	switch c {
	case routev3.RedirectAction_FOUND:
		return 302
	case routev3.RedirectAction_SEE_OTHER:
		return 303
	case routev3.RedirectAction_TEMPORARY_REDIRECT:
		return 307
	case routev3.RedirectAction_PERMANENT_REDIRECT:
		return 308
	}
	return 301
}
