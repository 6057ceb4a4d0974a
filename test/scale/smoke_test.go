package scale

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScaleSmoke runs both scenarios small, so the harness itself is exercised by `make test`:
// every stream must reach its full configuration (the fleet fails the test otherwise, naming
// the streams that did not), every gateway replica must receive the route change and every
// consumer the endpoint change. Speed is not checked here; BenchmarkScale measures it.
func TestScaleSmoke(t *testing.T) {
	opt := runOptions{changes: 1, settle: 100 * time.Millisecond, quiet: 300 * time.Millisecond}
	t.Run("gateway-replicas", func(t *testing.T) {
		r := runScenario(t, gatewayScenario(20, false), opt)
		t.Log("\n" + r.table())
		require.Len(t, r.full, 20)
		assert.Equal(t, []string{"CDS", "EDS", "LDS", "RDS"}, r.fullTypes, "a gateway without mTLS needs no secrets")
		assert.Len(t, r.route, 20, "every replica holds the changed route")
		assert.Len(t, r.endpoint, 20, "every replica routes to the changed service")
		assert.Equal(t, 20, r.routeReceivers)
		assert.Positive(t, r.rssEmpty)
		assert.Positive(t, r.routeRebuild.rebuilds, "the route change caused a rebuild")
	})
	t.Run("sidecars", func(t *testing.T) {
		sc := sidecarScenario(50, false)
		// 6 services (the minimum for 5 outbounds each), so the 42 sidecars of the 5 others consume the changed one.
		require.Len(t, sc.endpointWant, 42)
		r := runScenario(t, sc, opt)
		t.Log("\n" + r.table())
		require.Len(t, r.full, 50)
		assert.Equal(t, []string{"CDS", "EDS", "LDS", "RDS"}, r.fullTypes)
		assert.Len(t, r.endpoint, 42, "every consumer holds the new endpoint")
		assert.GreaterOrEqual(t, r.endpointReceivers, 42)
	})
}
