package names

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
)

func decisionsStruct(ds []PolicyDecision) *structpb.Struct {
	return &structpb.Struct{Fields: map[string]*structpb.Value{PoliciesMetadataKey: EncodePolicyDecisions(ds)}}
}

func TestPolicyDecisionsRoundTrip(t *testing.T) {
	ds := []PolicyDecision{
		{Kind: "Timeout", Applied: "t-1", Note: "most specific", Lost: []LostPolicy{{Name: "t-0", Reason: "less specific"}, {Name: "t-2", Reason: "older"}}},
		{Kind: "TrafficRoute", Note: "ignored on a gateway"},
	}
	assert.Equal(t, ds, DecodePolicyDecisions(decisionsStruct(ds)))
}

// The wire form is output, so it is pinned: every key present, lost [] rather than absent.
func TestPolicyDecisionsWireForm(t *testing.T) {
	got := decisionsStruct([]PolicyDecision{{Kind: "HealthCheck", Applied: "hc"}}).AsMap()
	assert.Equal(t, map[string]any{PoliciesMetadataKey: []any{
		map[string]any{"kind": "HealthCheck", "applied": "hc", "note": "", "lost": []any{}},
	}}, got)
	want, err := structpb.NewStruct(map[string]any{PoliciesMetadataKey: []any{
		map[string]any{"kind": "Retry", "applied": "r", "note": "n", "lost": []any{map[string]any{"name": "r0", "reason": "why"}}},
	}})
	require.NoError(t, err)
	assert.Equal(t, []PolicyDecision{{Kind: "Retry", Applied: "r", Note: "n", Lost: []LostPolicy{{Name: "r0", Reason: "why"}}}}, DecodePolicyDecisions(want))
}

func TestPolicyDecisionsAbsent(t *testing.T) {
	assert.Nil(t, DecodePolicyDecisions(nil))
	assert.Nil(t, DecodePolicyDecisions(&structpb.Struct{Fields: EncodeRouteOrigin(RouteOrigin{Route: "r"})}), "route origin but no decisions")
}
