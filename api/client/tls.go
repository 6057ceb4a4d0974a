package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"time"
)

// ControlPlaneCAPath serves the PEM of the CA that signs the control plane's serving
// certificate (public: it is what clients trust, not a secret).
const ControlPlaneCAPath = "/control-plane/ca"

// TrustCA makes the client verify an https:// API against caPEM (and the address's host name)
// instead of the system's roots.
func (c *Client) TrustCA(caPEM []byte) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return errors.New("no PEM certificate in the CA file")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	c.HTTP = &http.Client{Timeout: time.Minute, Transport: tr}
	return nil
}

// ControlPlaneCA fetches the PEM of the control plane's CA: what `meshgate bootstrap` puts in
// an Envoy bootstrap so Envoy verifies the xDS server.
func (c *Client) ControlPlaneCA(ctx context.Context) ([]byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: ControlPlaneCAPath})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}
