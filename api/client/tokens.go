package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The dataplane token endpoints. They are served by the control plane beside the resource API,
// behind the same admin token.
const (
	DataplaneTokenPath       = "/tokens/dataplane"
	RevokeDataplaneTokenPath = "/tokens/dataplane/revoke"
)

// DataplaneTokenRequest is the body of POST /tokens/dataplane; the response is the token as
// text/plain.
type DataplaneTokenRequest struct {
	Mesh string `json:"mesh"`
	Name string `json:"name"`
	// ValidFor is a Go duration ("24h"); empty means the server's default.
	ValidFor string `json:"validFor,omitempty"`
}

// RevokeDataplaneTokenRequest is the body of POST /tokens/dataplane/revoke: the token's id
// (its `jti`) in its mesh.
type RevokeDataplaneTokenRequest struct {
	Mesh string `json:"mesh"`
	ID   string `json:"id"`
}

// DataplaneToken asks the control plane to sign a token for dataplane mesh/name; validFor 0
// means the server's default.
func (c *Client) DataplaneToken(ctx context.Context, mesh, name string, validFor time.Duration) (string, error) {
	req := DataplaneTokenRequest{Mesh: mesh, Name: name}
	if validFor != 0 {
		req.ValidFor = validFor.String()
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: DataplaneTokenPath, body: body})
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(resp.body))
	if token == "" {
		return "", fmt.Errorf("POST %s: the response holds no token", DataplaneTokenPath)
	}
	return token, nil
}

// RevokeDataplaneToken puts a token id on its mesh's revocation list.
func (c *Client) RevokeDataplaneToken(ctx context.Context, mesh, id string) error {
	body, err := json.Marshal(RevokeDataplaneTokenRequest{Mesh: mesh, ID: id})
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{method: http.MethodPost, path: RevokeDataplaneTokenPath, body: body})
	return err
}
