package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// ages makes table output comparable.
var ages = regexp.MustCompile(`\d+s\n`)

func TestGetTable(t *testing.T) {
	startAPI(t)
	_, stderr, code := runCLI(t, "apply", "-f", example)
	require.Equal(t, 0, code, stderr)
	for _, kind := range []string{"dataplanes", "dataplane", "Dataplane"} {
		out, stderr, code := runCLI(t, "get", kind)
		require.Equal(t, 0, code, stderr)
		assert.Equal(t, `MESH      NAME                 AGE
default   api-1                0s
default   frontend-1           0s
default   gateway-instance-1   0s
`, ages.ReplaceAllString(out, "0s\n"))
	}
	out, _, code := runCLI(t, "get", "meshgatewayroute", "api-route")
	require.Equal(t, 0, code)
	assert.Equal(t, "MESH      NAME        AGE\ndefault   api-route   0s\n", ages.ReplaceAllString(out, "0s\n"))

	out, _, code = runCLI(t, "get", "meshes")
	require.Equal(t, 0, code)
	assert.Equal(t, "NAME   AGE\n", out)
	out, _, code = runCLI(t, "get", "secrets", "-A")
	require.Equal(t, 0, code)
	assert.Equal(t, "MESH   NAME   AGE\n", out)
}

func TestGetYAMLAndJSON(t *testing.T) {
	startAPI(t)
	_, stderr, code := runCLI(t, "apply", "-f", example)
	require.Equal(t, 0, code, stderr)

	out, stderr, code := runCLI(t, "get", "meshgateway", "edge-gateway", "-o", "yaml")
	require.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(out, "type: MeshGateway\nmesh: default\nname: edge-gateway\ncreationTime: "), out)
	objs, errs := api.Decode("out.yaml", []byte(out))
	require.Empty(t, errs, "get -o yaml output loads back")
	require.Len(t, objs, 1)

	out, _, code = runCLI(t, "get", "meshgateways", "edge-gateway", "-o", "json")
	require.Equal(t, 0, code)
	var gw map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &gw))
	assert.Equal(t, "edge-gateway", gw["name"])

	out, _, code = runCLI(t, "get", "dataplanes", "-o", "json")
	require.Equal(t, 0, code)
	var list struct {
		Total int              `json:"total"`
		Items []map[string]any `json:"items"`
		Next  *string          `json:"next"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	assert.Equal(t, 3, list.Total)
	assert.Len(t, list.Items, 3)
	assert.Nil(t, list.Next)

	out, _, code = runCLI(t, "get", "dataplanes", "-o", "yaml")
	require.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "total: 3\nitems:\n  - type: Dataplane\n"), out)
}

func TestGetErrors(t *testing.T) {
	startAPI(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"get", "widgets"}, `error: unknown resource type "widgets" (known: circuitbreakers, dataplanes, externalservices, faultinjections, healthchecks, meshes, meshgateways, meshgatewayroutes, proxytemplates, ratelimits, retries, secrets, timeouts, trafficlogs, trafficpermissions, trafficroutes, virtualoutbounds, zoneingresses)`},
		{[]string{"get", "dataplane", "nope"}, "error: Dataplane default/nope not found"},
		{[]string{"get", "dataplanes", "--mesh", "nope"}, `error: mesh "nope" not found`},
		{[]string{"get", "dataplanes", "-o", "xml"}, `error: output format "xml"`},
		{[]string{"get"}, "error: accepts between 1 and 2 arg(s)"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, stderr, code := runCLI(t, c.args...)
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, c.want)
		})
	}
}
