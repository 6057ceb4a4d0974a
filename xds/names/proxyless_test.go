package names

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestProxylessNames(t *testing.T) {
	assert.Equal(t, "backend.mesh:8080", ProxylessOutboundListener("shop", "shop", "backend", 8080))
	assert.Equal(t, "backend.mesh:8080", ProxylessOutboundListener("shop", "", "backend", 8080))
	assert.Equal(t, "ledger.payments.mesh:9090", ProxylessOutboundListener("shop", "payments", "ledger", 9090))
	// What gRPC's xDS server asks for, from the template and the address it listens on.
	for addr, want := range map[string]string{"10.0.0.2": "inbound:10.0.0.2:8080", "fd00::2": "inbound:[fd00::2]:8080"} {
		assert.Equal(t, want, ProxylessInboundListener(addr, 8080))
	}
	assert.Equal(t, "inbound:127.0.0.1:50051", fmt.Sprintf(ProxylessServerListenerTemplate, "127.0.0.1:50051"))
	assert.Equal(t, InboundListener("10.0.0.2", 8080), ProxylessInboundListener("10.0.0.2", 8080), "an IPv4 inbound keeps the sidecar's name")
}
