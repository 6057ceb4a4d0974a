package client

import (
	"context"
	"encoding/json"

	"github.com/meshgate/meshgate/api/rest/wire"
)

// XDS returns what `meshgate render` prints for the dataplane, as served by the control plane.
func (c *Client) XDS(ctx context.Context, mesh, name string) (json.RawMessage, error) {
	return c.getJSON(ctx, wire.DataplanePath(mesh, name, "xds"))
}

// Inspect returns the control plane's view of the dataplane: diagnostics and xDS stream status.
func (c *Client) Inspect(ctx context.Context, mesh, name string) (json.RawMessage, error) {
	return c.getJSON(ctx, wire.DataplanePath(mesh, name, "inspect"))
}
