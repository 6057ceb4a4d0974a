package controlplane

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/store/sqlite"
	xdsserver "github.com/meshgate/meshgate/xds/server"
)

// BenchmarkRefresh is the reconciler's side of a change at scale, in one process: every
// dataplane counts as connected and every snapshot goes into a real xDS server (no streams;
// test/scale measures those end to end). One op is one store write and the refresh after it.
//
//	go test -run '^$' -bench Refresh -benchtime 20x ./controlplane/
func BenchmarkRefresh(b *testing.B) {
	b.Run("gateway-replicas/n=1000/route-change", func(b *testing.B) {
		benchRefresh(b, gatewayReplicas(1000, 100, 10), func(i int) string { return benchRoute(7, i) })
	})
	b.Run("sidecars/n=5000/endpoint-change", func(b *testing.B) {
		benchRefresh(b, sidecarFleet(500, 10, 5), func(i int) string { return benchSidecar(3, 0, i%2, 500, 5) })
	})
}

// connectedSink is a real xDS server whose every node counts as connected.
type connectedSink struct{ *xdsserver.Server }

func (connectedSink) Connected(string) bool { return true }

var _ snapshotSink = connectedSink{}

func benchRefresh(b *testing.B, docs []string, change func(i int) string) {
	ctx := context.Background()
	st, err := sqlite.OpenDir(ctx, b.TempDir())
	require.NoError(b, err)
	b.Cleanup(func() { _ = st.Close() })
	for start := 0; start < len(docs); start += 500 {
		apply(b, st, docs[start:min(start+500, len(docs))]...)
	}
	srv, err := xdsserver.New(xdsserver.Options{Logger: quietLogger(), Registerer: prometheus.NewRegistry()})
	require.NoError(b, err)
	renders := 0
	rec := &reconciler{store: st, sink: connectedSink{srv}, log: quietLogger(), ids: newTestIdentities(b, st),
		onRender: func(bool) { renders++ }}
	require.NoError(b, rec.rebuild(ctx))
	first := renders
	renders = 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		apply(b, st, change(i))
		require.NoError(b, rec.refresh(ctx, false))
	}
	b.ReportMetric(float64(renders)/float64(b.N), "renders/op")
	b.ReportMetric(float64(first), "renders-first")
}

func gatewayReplicas(n, routes, services int) []string {
	docs := []string{`type: MeshGateway
mesh: default
name: edge
selectors: [{match: {kuma.io/service: edge}}]
conf: {listeners: [{port: 8080, protocol: HTTP, tags: {port: http/8080}}]}`}
	for s := 0; s < services; s++ {
		for e := 0; e < 2; e++ {
			docs = append(docs, fmt.Sprintf(`type: Dataplane
mesh: default
name: svc-%d-%d
networking: {address: 10.1.%d.%d, inbound: [{port: 8080, tags: {kuma.io/service: svc-%d, kuma.io/protocol: http}}]}`, s, e, s, e+1, s))
		}
	}
	for r := 0; r < routes; r++ {
		docs = append(docs, benchRoute(r, 0))
	}
	for i := 0; i < n; i++ {
		docs = append(docs, fmt.Sprintf(`type: Dataplane
mesh: default
name: edge-%d
networking: {address: 10.2.%d.%d, gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}}`, i, i/250, i%250+1))
	}
	return docs
}

func benchRoute(r, version int) string {
	return fmt.Sprintf(`type: MeshGatewayRoute
mesh: default
name: route-%d
selectors: [{match: {kuma.io/service: edge}}]
conf:
  http:
    hostnames: [host-%d.example.com]
    rules:
    - matches: [{path: {match: PREFIX, value: /api/v%d/r%d}}]
      backends: [{destination: {kuma.io/service: svc-%d}, weight: %d}]`, r, r%10, version, r, r%10, 1+version)
}

// sidecarFleet is services × replicas sidecars, each calling outbounds other services.
func sidecarFleet(services, replicas, outbounds int) []string {
	var docs []string
	for s := 0; s < services; s++ {
		for r := 0; r < replicas; r++ {
			docs = append(docs, benchSidecar(s, r, 0, services, outbounds))
		}
	}
	return docs
}

func benchSidecar(s, r, version, services, outbounds int) string {
	var out strings.Builder
	for o := 1; o <= outbounds; o++ {
		fmt.Fprintf(&out, "{port: %d, tags: {kuma.io/service: svc-%d}},", 20000+o, (s+o*7)%services)
	}
	return fmt.Sprintf(`type: Dataplane
mesh: default
name: svc-%d-%d
networking:
  address: 10.%d.%d.%d
  inbound: [{port: %d, tags: {kuma.io/service: svc-%d, kuma.io/protocol: http}}]
  outbound: [%s]`, s, r, 10+s/250, s%250, r+1, 8080+version, s, strings.TrimSuffix(out.String(), ","))
}
