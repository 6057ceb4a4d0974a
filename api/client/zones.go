package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// ZoneTokenPath issues zone tokens on a global control plane (admin only).
const ZoneTokenPath = "/tokens/zone"

// ZonesPath lists the zones a global control plane knows and their sync state.
const ZonesPath = "/zones"

// ZoneTokenRequest asks for a token a zone control plane presents to global.
type ZoneTokenRequest struct {
	Zone     string `json:"zone"`
	ValidFor string `json:"validFor,omitempty"`
}

// ZoneToken issues a zone token (`meshgate token zone`).
func (c *Client) ZoneToken(ctx context.Context, zone string, validFor time.Duration) (string, error) {
	req := ZoneTokenRequest{Zone: zone}
	if validFor > 0 {
		req.ValidFor = validFor.String()
	}
	return c.postForText(ctx, ZoneTokenPath, req)
}

// postForText POSTs req as JSON and returns the text answer (a token).
func (c *Client) postForText(ctx context.Context, path string, req any) (string, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: path, body: body})
	if err != nil {
		return "", err
	}
	return string(resp.body), nil
}

// Zones returns global's view of its zones as JSON.
func (c *Client) Zones(ctx context.Context) (json.RawMessage, error) {
	return c.getJSON(ctx, ZonesPath)
}

// ZoneIngressTokenPath issues ZoneIngress tokens on a zone control plane (admin only).
const ZoneIngressTokenPath = "/tokens/zone-ingress"

// ZoneIngressTokenRequest asks for the token a ZoneIngress's Envoy presents to its zone's xDS.
type ZoneIngressTokenRequest struct {
	Name     string `json:"name"`
	ValidFor string `json:"validFor,omitempty"`
}

// ZoneIngressToken issues a ZoneIngress token (`meshgate token zone-ingress`).
func (c *Client) ZoneIngressToken(ctx context.Context, name string, validFor time.Duration) (string, error) {
	req := ZoneIngressTokenRequest{Name: name}
	if validFor > 0 {
		req.ValidFor = validFor.String()
	}
	return c.postForText(ctx, ZoneIngressTokenPath, req)
}

// ZoneRevokePath is POST /zones/{zone}/revoke on global (admin): cut a zone off.
func ZoneRevokePath(zone string) string { return ZonesPath + "/" + zone + "/revoke" }

// ZoneRevocation is what revoking a zone did.
type ZoneRevocation struct {
	Zone string `json:"zone"`
	// StreamsEnded counts the zone's sync streams that were open and are now closed.
	StreamsEnded int `json:"streamsEnded"`
	// Intermediates are the `<mesh>/<backend>` builtin CAs whose zone intermediates were revoked.
	Intermediates []string `json:"intermediates"`
}

// RevokeZone cuts a zone off (`meshgate zone revoke`).
func (c *Client) RevokeZone(ctx context.Context, zone string) (ZoneRevocation, error) {
	var out ZoneRevocation
	resp, err := c.do(ctx, request{method: http.MethodPost, path: ZoneRevokePath(zone)})
	if err != nil {
		return out, err
	}
	err = json.Unmarshal(resp.body, &out)
	return out, err
}
