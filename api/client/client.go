// Package client is a typed Go client for meshgate's HTTP API (api/rest): apply, get, list,
// put, delete, and the dataplane views. Errors carry the server's field-path causes.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/meshgate/meshgate/api/rest/wire"
)

// maxResponseBytes bounds what the client buffers from one response; a page of a listing is
// at most the server's MaxPageSize resources.
const maxResponseBytes = 64 << 20

// Client talks to one control plane. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	// HTTP is the transport; replace it for TLS settings or tests.
	HTTP *http.Client
}

// New returns a client for the API at baseURL (`http://127.0.0.1:5681`); token, when not
// empty, is sent as the admin bearer token.
func New(baseURL, token string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("API address %q: want http://HOST:PORT or https://HOST:PORT", baseURL)
	}
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), strings.TrimSuffix(u.RawPath, "/")
	u.RawQuery, u.Fragment = "", ""
	return &Client{base: u, token: token, HTTP: &http.Client{Timeout: time.Minute}}, nil
}

// request is one API call.
type request struct {
	method string
	path   string
	query  url.Values
	body   []byte
	header http.Header
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends req and returns a 2xx response, or the server's error as an *APIError.
func (c *Client) do(ctx context.Context, req request) (*response, error) {
	// Paths come escaped from wire, so the URL is assembled as text and parsed once.
	target := c.base.String() + req.path
	if q := req.query.Encode(); q != "" {
		target += "?" + q
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	for k, v := range req.header {
		hreq.Header[k] = v
	}
	hreq.Header.Set("Accept", wire.ContentJSON)
	if req.body != nil && hreq.Header.Get("Content-Type") == "" {
		hreq.Header.Set("Content-Type", wire.ContentJSON)
	}
	if c.token != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.token)
	}
	hresp, err := c.HTTP.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("meshgate API at %s: %w", c.base.Redacted(), err)
	}
	defer hresp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the response: %w", req.method, req.path, err)
	}
	if hresp.StatusCode < 200 || hresp.StatusCode > 299 {
		return nil, newAPIError(hresp.StatusCode, data)
	}
	return &response{status: hresp.StatusCode, header: hresp.Header, body: data}, nil
}

// getJSON fetches a JSON document verbatim.
func (c *Client) getJSON(ctx context.Context, path string) (json.RawMessage, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path})
	if err != nil {
		return nil, err
	}
	return json.RawMessage(resp.body), nil
}
