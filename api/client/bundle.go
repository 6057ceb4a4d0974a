package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// BundlePath is where a mesh's SPIFFE trust bundle is served.
func BundlePath(mesh string) string { return "/meshes/" + url.PathEscape(mesh) + "/bundle" }

// MeshBundle fetches a mesh's trust bundle (SPIFFE federation format) and parses it.
func (c *Client) MeshBundle(ctx context.Context, mesh string) (*spiffebundle.Bundle, error) {
	td, err := spiffeid.TrustDomainFromString(mesh)
	if err != nil {
		return nil, fmt.Errorf("mesh %q as trust domain: %w", mesh, err)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: BundlePath(mesh)})
	if err != nil {
		return nil, err
	}
	b, err := spiffebundle.Parse(td, resp.body)
	if err != nil {
		return nil, fmt.Errorf("bundle of mesh %s: %w", mesh, err)
	}
	return b, nil
}
