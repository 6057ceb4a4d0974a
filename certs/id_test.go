package certs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/certs"
)

func TestServiceID(t *testing.T) {
	for _, tc := range []struct {
		mesh, service, want, err string
	}{
		{mesh: "default", service: "web", want: "spiffe://default/web"},
		{mesh: "team-a", service: "backend_team-a_svc_80", want: "spiffe://team-a/backend_team-a_svc_80"},
		{mesh: "Bad Mesh", service: "web", err: `mesh "Bad Mesh" as SPIFFE trust domain`},
		{mesh: "default", service: "a/b", err: `service "a/b" as SPIFFE path`},
		{mesh: "default", service: "", err: `service "" as SPIFFE path`},
	} {
		t.Run(tc.mesh+"/"+tc.service, func(t *testing.T) {
			id, err := certs.ServiceID(tc.mesh, tc.service)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, id.String())
		})
	}
}

func TestKumaURI(t *testing.T) {
	u, err := certs.KumaURI("kuma.io/service", "web")
	require.NoError(t, err)
	assert.Equal(t, "kuma://kuma.io/service/web", u.String())
	u, err = certs.KumaURI("version", "v1")
	require.NoError(t, err)
	assert.Equal(t, "kuma://version/v1", u.String())
	_, err = certs.KumaURI("", "v1")
	require.ErrorContains(t, err, "must not be empty")
	_, err = certs.KumaURI("version", "")
	require.ErrorContains(t, err, "must not be empty")
}

func TestIdentityURIs(t *testing.T) {
	id := certs.Identity{
		Mesh:     "default",
		Services: []string{"web", "api", "web"},
		Tags: map[string][]string{
			"version":         {"v2", "v1", "v2"},
			"kuma.io/zone":    {"zone-1"},
			"kuma.io/service": {"web", "api"},
		},
	}
	uris, err := id.URIs()
	require.NoError(t, err)
	var got []string
	for _, u := range uris {
		got = append(got, u.String())
	}
	// Kuma's order: SPIFFE IDs (caller's order, de-duplicated), then tags by key and value.
	assert.Equal(t, []string{
		"spiffe://default/web",
		"spiffe://default/api",
		"kuma://kuma.io/service/api",
		"kuma://kuma.io/service/web",
		"kuma://kuma.io/zone/zone-1",
		"kuma://version/v1",
		"kuma://version/v2",
	}, got)

	_, err = certs.Identity{Mesh: "default"}.URIs()
	require.ErrorContains(t, err, "no service")
	_, err = certs.Identity{Mesh: "default", Services: []string{"web"}, Tags: map[string][]string{"k": {""}}}.URIs()
	require.ErrorContains(t, err, "must not be empty")
}
