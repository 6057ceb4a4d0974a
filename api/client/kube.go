package client

import (
	"context"
	"encoding/json"
	"net/http"
)

// KubernetesBootstrapPath serves a gateway or sidecar pod its Envoy bootstrap in Kubernetes
// mode (`meshgate dataplane`): POST a KubernetesBootstrapRequest with the pod's ServiceAccount
// token as the bearer token. No admin token: the ServiceAccount token is the credential.
const KubernetesBootstrapPath = "/kubernetes/bootstrap"

// KubernetesBootstrapRequest names the pod asking; the control plane checks that the token
// is of the ServiceAccount the pod runs as.
type KubernetesBootstrapRequest struct {
	Pod       string `json:"pod"`
	Namespace string `json:"namespace"`
	// AdminPort is Envoy's admin port on 127.0.0.1; 0: the Dataplane's, else 9901.
	AdminPort uint32 `json:"adminPort,omitempty"`
}

// KubernetesBootstrap fetches a pod's Envoy bootstrap (YAML). The client's token must be the
// pod's ServiceAccount token.
func (c *Client) KubernetesBootstrap(ctx context.Context, req KubernetesBootstrapRequest) ([]byte, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, path: KubernetesBootstrapPath, body: body})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}
