package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/meshgate/meshgate/api/rest/wire"
)

// ExplainPathPattern is the explain endpoint as a net/http pattern.
const ExplainPathPattern = "/meshes/{mesh}/dataplanes/{name}/explain"

// ExplainRequest is one request to explain on what the control plane serves a dataplane
// (the fields of `meshgate explain`'s flags; empty ones are left out).
type ExplainRequest struct {
	Port                      uint32
	Host, Path, Method        string
	SNI, Address              string
	TLS, Plaintext            bool
	Headers, ALPN, SourceURIs []string // Headers as name=value
	// Follow explains the request at every dataplane it reaches (`{"hops": [...]}`).
	Follow bool
}

// Query is the request as the endpoint's query parameters.
func (r ExplainRequest) Query() url.Values {
	q := url.Values{"port": {strconv.FormatUint(uint64(r.Port), 10)}}
	for k, v := range map[string]string{"host": r.Host, "path": r.Path, "method": r.Method, "sni": r.SNI, "address": r.Address} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if r.TLS {
		q.Set("tls", "true")
	}
	if r.Plaintext {
		q.Set("plaintext", "true")
	}
	if r.Follow {
		q.Set("follow", "true")
	}
	q["header"], q["alpn"], q["sourceURI"] = r.Headers, r.ALPN, r.SourceURIs
	for k, v := range q {
		if len(v) == 0 {
			delete(q, k)
		}
	}
	return q
}

// Explain returns `meshgate explain -o json` of req at dataplane mesh/name, read from the
// configuration the control plane serves it now.
func (c *Client) Explain(ctx context.Context, mesh, name string, req ExplainRequest) (json.RawMessage, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: wire.DataplanePath(mesh, name, "explain"), query: req.Query()})
	if err != nil {
		return nil, err
	}
	return json.RawMessage(resp.body), nil
}
