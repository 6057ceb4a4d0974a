package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// DataplaneIdentityPath serves a dataplane its current workload identity (an X509-SVID with
// its private key) and the trust bundles of every mTLS mesh. It is authenticated by the
// dataplane's token, not the admin token, and served only over HTTPS or on loopback.
const DataplaneIdentityPath = "/dataplane/identity"

// DataplaneIdentity is what DataplaneIdentityPath answers.
type DataplaneIdentity struct {
	// Mesh and Name are the dataplane the token is of.
	Mesh string `json:"mesh"`
	Name string `json:"name"`
	// SPIFFEID is `spiffe://<mesh>/<service>`, the certificate's only URI SAN (an X509-SVID as
	// the SPIFFE spec defines it, which go-spiffe and gRPC's SPIFFE verification require).
	SPIFFEID string `json:"spiffeID"`
	// CertificateChain is PEM, leaf first, then intermediates up to (not including) the root.
	CertificateChain string `json:"certificateChain"`
	// PrivateKey is the leaf's key, PKCS#8 PEM.
	PrivateKey string    `json:"privateKey"`
	NotAfter   time.Time `json:"notAfter"`
	// RenewAt is when to ask again: a new certificate is issued from then on.
	RenewAt time.Time `json:"renewAt"`
	// Bundles are the PEM roots of every mTLS mesh by mesh name (= trust domain): the
	// dataplane's own mesh and every other one, for cross-mesh callers and servers.
	Bundles map[string]string `json:"bundles"`
}

// DataplaneIdentity fetches the identity of the dataplane whose token the client was built
// with (New's token argument is sent as the bearer token).
func (c *Client) DataplaneIdentity(ctx context.Context) (*DataplaneIdentity, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: DataplaneIdentityPath})
	if err != nil {
		return nil, err
	}
	var id DataplaneIdentity
	if err := json.Unmarshal(resp.body, &id); err != nil {
		return nil, fmt.Errorf("dataplane identity: %w", err)
	}
	return &id, nil
}
