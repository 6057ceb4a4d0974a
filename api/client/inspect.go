package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// InspectDataplanesPath lists every dataplane the control plane knows with its connection
// state; `meshgate inspect dataplanes` and the console both read it.
const InspectDataplanesPath = "/inspect/dataplanes"

// Dataplane types as InspectDataplanesPath reports them.
const (
	DataplaneSidecar          = "sidecar"
	DataplaneBuiltinGateway   = "builtin gateway"
	DataplaneDelegatedGateway = "delegated gateway"
	DataplaneProxyless        = "proxyless"
)

// DataplaneSummary is one row of InspectDataplanesPath.
type DataplaneSummary struct {
	Mesh string `json:"mesh"`
	Name string `json:"name"`
	// Type is one of the Dataplane* constants.
	Type string `json:"type"`
	// Zone is the zone a dataplane synced from a zone belongs to (kuma.io/zone).
	Zone   string `json:"zone,omitempty"`
	Online bool   `json:"online"`
	// Replica is the control plane replica holding the dataplane's stream: this one's id when
	// it is connected here, empty otherwise (replicas do not see each other's streams).
	Replica string `json:"replica,omitempty"`
	// LastACK is the latest time the dataplane accepted a response of any type.
	LastACK time.Time `json:"lastAck,omitzero"`
	// NACK is Envoy's error text of the newest rejection still in force (Rejected) or, after
	// later versions were accepted, the last one.
	NACK     string `json:"nack,omitempty"`
	Rejected bool   `json:"rejected,omitempty"`
	// Applying: a response was sent that the dataplane has neither ACKed nor NACKed yet, so a
	// new configuration is on its way.
	Applying bool `json:"applying,omitempty"`
	// CertExpiry is when the dataplane's current workload certificate expires (mTLS meshes,
	// connected dataplanes).
	CertExpiry time.Time `json:"certExpiry,omitzero"`
	// Error is why no configuration could be built; Diagnostics counts problems found while
	// building it.
	Error       string `json:"error,omitempty"`
	Diagnostics int    `json:"diagnostics,omitempty"`
}

// InspectDataplanes lists the dataplanes of mesh, or of every mesh when mesh is empty.
func (c *Client) InspectDataplanes(ctx context.Context, mesh string) ([]DataplaneSummary, error) {
	q := url.Values{}
	if mesh != "" {
		q.Set("mesh", mesh)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: InspectDataplanesPath, query: q})
	if err != nil {
		return nil, err
	}
	var out []DataplaneSummary
	if err := json.Unmarshal(resp.body, &out); err != nil {
		return nil, fmt.Errorf("reading %s: %w", InspectDataplanesPath, err)
	}
	return out, nil
}
