package model

import (
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

func TestModelHoldsZoneIngresses(t *testing.T) {
	zi := func(name string) *api.ZoneIngress {
		return &api.ZoneIngress{Meta: api.Meta{Kind: api.KindZoneIngress, Name: name}}
	}
	m, errs := Build([]api.Object{zi("zone-2.ingress"), zi("zone-1-ingress"), zi("zone-1-ingress")})
	require.Len(t, errs, 1, "a duplicate ingress is reported")
	require.Equal(t, "name", errs[0].Field)
	got := m.ZoneIngresses()
	require.Len(t, got, 2)
	require.Equal(t, "zone-1-ingress", got[0].Name)
	require.Equal(t, "zone-2.ingress", got[1].Name)
}
