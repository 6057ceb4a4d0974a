package test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExplainFollowOnServer: the explain endpoint with follow=true explains a request at every
// dataplane it reaches, each from the configuration the control plane serves it (real CA
// identities): checkout's outbound to payments.mesh, the payments gateway (shop's SPIFFE ID
// trusted, RBAC allows it), the API's inbound. The console's explain form and `meshgate explain
// --server --follow` read this.
func TestExplainFollowOnServer(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(exampleDir(t, "crossmesh")))
	require.Equal(t, http.StatusOK, code, string(body))

	q := url.Values{"port": {"8080"}, "host": {"payments.mesh"}, "path": {"/"}, "follow": {"true"}}
	var hops struct {
		Hops []struct {
			Mesh      string `json:"mesh"`
			Dataplane string `json:"dataplane"`
			Result    struct {
				TLS *struct {
					Accepted bool `json:"accepted"`
				} `json:"tls"`
				RBAC []struct {
					Allowed bool   `json:"allowed"`
					Policy  string `json:"policy"`
				} `json:"rbac"`
			} `json:"result"`
		} `json:"hops"`
	}
	require.Eventually(t, func() bool {
		code, body = cp.call(t, http.MethodGet, "/meshes/shop/dataplanes/checkout-1/explain?"+q.Encode(), "", nil)
		return code == http.StatusOK
	}, wait, 50*time.Millisecond, "explain: %d %s", code, body)
	require.NoError(t, json.Unmarshal(body, &hops), string(body))
	var path []string
	for _, h := range hops.Hops {
		path = append(path, h.Mesh+"/"+h.Dataplane)
	}
	require.Equal(t, []string{"shop/checkout-1", "payments/payments-gateway-1", "payments/payments-api-1"}, path)
	gw := hops.Hops[1].Result
	require.NotNil(t, gw.TLS)
	assert.True(t, gw.TLS.Accepted, "the gateway trusts shop's SPIFFE ID")
	require.Len(t, gw.RBAC, 1)
	assert.True(t, gw.RBAC[0].Allowed)
	assert.Equal(t, "shop-checkout-to-gateway", gw.RBAC[0].Policy)
}
