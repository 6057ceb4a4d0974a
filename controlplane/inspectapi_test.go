package controlplane

import (
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/meshgate/meshgate/api/client"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	xdsserver "github.com/meshgate/meshgate/xds/server"
)

func TestDataplaneType(t *testing.T) {
	gw := func(typ api.GatewayType) *api.Dataplane {
		return &api.Dataplane{Spec: api.DataplaneSpec{Networking: api.Networking{Gateway: &api.DataplaneGateway{Type: typ}}}}
	}
	proxyless := &api.Dataplane{}
	proxyless.Labels = map[string]string{api.ProxyTypeLabel: api.ProxyTypeProxyless}
	for want, dp := range map[string]*api.Dataplane{
		client.DataplaneSidecar:          {},
		client.DataplaneBuiltinGateway:   gw(api.GatewayBuiltin),
		client.DataplaneDelegatedGateway: gw(api.GatewayDelegated),
		client.DataplaneProxyless:        proxyless,
	} {
		assert.Equal(t, want, dataplaneType(dp))
	}
}

// The NACK shown is the one still in force, else the newest; the last ACK is the newest of any
// type; a response not answered yet means the dataplane is applying a new configuration.
func TestAckState(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ns := xdsserver.NodeStatus{Streams: 1, Types: []xdsserver.TypeStatus{
		{TypeURL: "c", SentVersion: "2", AckedVersion: "2", AckedAt: t0.Add(3 * time.Second),
			LastNACK: &xdsserver.NACK{Version: "1", Message: "old cluster error", At: t0.Add(2 * time.Second)}},
		{TypeURL: "l", SentVersion: "5", AckedVersion: "4", AckedAt: t0.Add(time.Second), Rejected: true,
			LastNACK: &xdsserver.NACK{Version: "5", Message: "listener error", At: t0}},
	}}
	last, nack, rejected := ackState(ns)
	assert.Equal(t, t0.Add(3*time.Second), last)
	assert.Equal(t, "listener error", nack, "the NACK in force wins over a newer one already replaced")
	assert.True(t, rejected)
	assert.False(t, applying(ns), "a NACKed response is answered")

	ns.Types[1].Rejected = false
	last, nack, rejected = ackState(ns)
	assert.Equal(t, "old cluster error", nack, "without one in force, the newest")
	assert.False(t, rejected)
	assert.Equal(t, t0.Add(3*time.Second), last)
	assert.True(t, applying(ns), "version 5 sent, 4 ACKed")

	_, nack, _ = ackState(xdsserver.NodeStatus{})
	assert.Empty(t, nack)
}

func TestDescribeRouteMatch(t *testing.T) {
	for want, m := range map[string]*routev3.RouteMatch{
		"any":          {},
		"prefix /api/": {PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/api/"}},
		"path = /api":  {PathSpecifier: &routev3.RouteMatch_Path{Path: "/api"}},
		"regex ^/v[0-9]+$, header x-env, query debug": {
			PathSpecifier:   &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "^/v[0-9]+$"}},
			Headers:         []*routev3.HeaderMatcher{{Name: "x-env"}},
			QueryParameters: []*routev3.QueryParameterMatcher{{Name: "debug"}},
		},
	} {
		assert.Equal(t, want, describeRouteMatch(m))
	}
}

func TestSummarizeRoute(t *testing.T) {
	rt := &routev3.Route{Name: "r", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{
			WeightedClusters: &routev3.WeightedCluster{Clusters: []*routev3.WeightedCluster_ClusterWeight{
				{Name: "api-v1", Weight: wrapperspb.UInt32(90)}, {Name: "api-v2", Weight: wrapperspb.UInt32(10)}}}}}}}
	s := summarizeRoute(rt, map[string]string{"api-v1": "api", "api-v2": "api"})
	assert.Equal(t, "forward", s.Action)
	assert.Equal(t, []backendSummary{{Cluster: "api-v1", Service: "api", Weight: 90}, {Cluster: "api-v2", Service: "api", Weight: 10}}, s.Backends)

	s = summarizeRoute(&routev3.Route{Match: &routev3.RouteMatch{}, Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 404}}}, nil)
	assert.Equal(t, "respond 404", s.Action)
	assert.Empty(t, s.Route, "a generated route names no MeshGatewayRoute")
}
