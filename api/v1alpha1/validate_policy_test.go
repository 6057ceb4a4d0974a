package v1alpha1

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrafficPermissionValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: TrafficPermission default/tp: ", line) + rest
	}
	const head = "type: TrafficPermission\nname: tp\n"
	runErrCases(t, []errCase{
		// Kuma requires no particular tag, kuma.io/service included.
		{"valid", head + `sources:
- match: {kuma.io/service: "*"}
- match: {kuma.io/service: web, kuma.io/mesh: partner_mesh}
- match: {team: payments}
destinations:
- match: {version: v1}
- match: {kuma.io/service: "*", kuma.io/mesh: "*"}
`, nil},
		{"empty spec", head, []string{
			e(1, "destinations: must have at least one element"),
			e(1, "sources: must have at least one element")}},
		{"empty lists", head + "sources: []\ndestinations: []\n", []string{
			e(3, "sources: must have at least one element"),
			e(4, "destinations: must have at least one element")}},
		{"selectors without tags", head + "sources:\n- match: {}\ndestinations:\n- {}\n", []string{
			e(4, "sources[0].match: must have at least one tag"),
			e(6, "destinations[0].match: must have at least one tag")}},
		{"tag charsets", head + `sources:
- match:
    kuma.io/service: ""
    "bad key": x
destinations:
- match:
    kuma.io/service: "a b"
`, []string{
			e(5, `sources[0].match["kuma.io/service"]: tag value must be non-empty`),
			e(6, `sources[0].match["bad key"]: tag name must consist of alphanumeric characters, dots, dashes, slashes and underscores`),
			e(9, `destinations[0].match["kuma.io/service"]: tag value must consist of alphanumeric characters, dots, dashes, slashes and underscores or be "*"`)}},
		// meshgate's rule: a source's kuma.io/mesh names one valid mesh.
		{"source mesh tag", head + `sources:
- match: {kuma.io/service: web, kuma.io/mesh: "*"}
- match: {kuma.io/service: web, kuma.io/mesh: Partner}
- match: {kuma.io/service: web, kuma.io/mesh: ""}
destinations:
- match: {kuma.io/service: backend}
`, []string{
			e(4, `sources[0].match["kuma.io/mesh"]: must name one mesh: "*" is not allowed`),
			e(5, `sources[1].match["kuma.io/mesh"]: `+meshRefCharsetMsg),
			e(6, `sources[2].match["kuma.io/mesh"]: tag value must be non-empty`)}},
		{"unknown field", head + "sources: [{match: {a: b}}]\ndestinations: [{match: {a: b}, matches: {}}]\n", []string{
			`test.yaml:4: TrafficPermission default/tp: destinations[0]: unknown field "matches"`}},
	})
}

func TestFaultInjectionValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: FaultInjection default/fi: ", line) + rest
	}
	// conf starts on line 5; its faults on line 6.
	const head = "type: FaultInjection\nname: fi\nsources: [{match: {kuma.io/service: web}}]\n" +
		"destinations: [{match: {kuma.io/service: backend, kuma.io/protocol: http}}]\n"
	conf := func(s string) string { return head + "conf:\n" + doc(s) }
	runErrCases(t, []errCase{
		{"valid", conf(`
  delay: {percentage: 0, value: 1.5s}
  abort: {percentage: 100, httpStatus: 503}
  responseBandwidth: {percentage: 12.5, limit: 1 Gbps}
`), nil},
		{"valid with one fault", conf("  abort: {percentage: 50, httpStatus: 200}\n"), nil},
		{"grpc and http2 destinations", "type: FaultInjection\nname: fi\nsources: [{match: {kuma.io/service: web}}]\n" +
			"destinations: [{match: {kuma.io/protocol: grpc}}, {match: {kuma.io/protocol: http2}}]\nconf: {delay: {percentage: 1, value: 1s}}\n", nil},
		{"empty spec", "type: FaultInjection\nname: fi\n", []string{
			e(1, "conf: must have at least one of the faults configured"),
			e(1, "destinations: must have at least one element"),
			e(1, "sources: must have at least one element")}},
		{"empty conf", head + "conf: {}\n", []string{
			e(5, "conf: must have at least one of the faults configured")}},
		{"null faults", conf("  delay:\n  abort: null\n"), []string{
			e(5, "conf: must have at least one of the faults configured")}},
		{"destination without protocol", "type: FaultInjection\nname: fi\nsources: [{match: {kuma.io/service: web}}]\n" +
			"destinations:\n- match: {kuma.io/service: backend}\n- match: {}\nconf: {delay: {percentage: 1, value: 1s}}\n", []string{
			e(5, "destinations[0].match: protocol must be specified"),
			e(6, "destinations[1].match: must have at least one tag"),
			e(6, "destinations[1].match: protocol must be specified")}},
		{"destination with another protocol", "type: FaultInjection\nname: fi\nsources: [{match: {kuma.io/service: web}}]\n" +
			"destinations:\n- match:\n    kuma.io/service: backend\n    kuma.io/protocol: tcp\nconf: {delay: {percentage: 1, value: 1s}}\n", []string{
			e(7, `destinations[0].match["kuma.io/protocol"]: must be one of the [http, http2, grpc]`)}},
		{"source without tags", "type: FaultInjection\nname: fi\nsources: [{match: {}}]\n" +
			"destinations: [{match: {kuma.io/protocol: http}}]\nconf: {delay: {percentage: 1, value: 1s}}\n", []string{
			e(3, "sources[0].match: must have at least one tag")}},
		{"source mesh tag", "type: FaultInjection\nname: fi\nsources: [{match: {kuma.io/mesh: \"*\"}}]\n" +
			"destinations: [{match: {kuma.io/protocol: http}}]\nconf: {delay: {percentage: 1, value: 1s}}\n", []string{
			e(3, `sources[0].match["kuma.io/mesh"]: must name one mesh: "*" is not allowed`)}},

		{"empty delay", conf("  delay: {}\n"), []string{
			e(6, "conf.delay.percentage: cannot be empty"),
			e(6, "conf.delay.value: cannot be empty")}},
		{"delay out of range and zero", conf("  delay:\n    percentage: 100.5\n    value: 0s\n"), []string{
			e(7, "conf.delay.percentage: has to be in [0.0 - 100.0] range"),
			e(8, "conf.delay.value: must be a positive duration")}},
		{"delay negative and unparsable", conf("  delay:\n    percentage: -1\n    value: 5 seconds\n"), []string{
			e(7, "conf.delay.percentage: has to be in [0.0 - 100.0] range"),
			e(8, "conf.delay.value: has to be a valid format")}},
		{"delay NaN", conf("  delay: {percentage: .nan, value: -1s}\n"), []string{
			e(6, "conf.delay.percentage: has to be in [0.0 - 100.0] range"),
			e(6, "conf.delay.value: must be a positive duration")}},
		{"delay value not a string", conf("  delay: {percentage: 1, value: 5}\n"), []string{
			e(6, "conf.delay.value: must be a string")}},

		{"empty abort", conf("  abort: {}\n"), []string{
			e(6, "conf.abort.httpStatus: cannot be empty"),
			e(6, "conf.abort.percentage: cannot be empty")}},
		{"abort status unknown", conf("  abort:\n    percentage: 10\n    httpStatus: 299\n"), []string{
			e(8, "conf.abort.httpStatus: http status code is incorrect")}},
		{"abort status too large", conf("  abort: {percentage: 10, httpStatus: 600}\n"), []string{
			e(6, "conf.abort.httpStatus: http status code is incorrect")}},
		// Kuma accepts 1xx, which Envoy's fault filter rejects.
		{"abort status informational", conf("  abort: {percentage: 10, httpStatus: 100}\n"), []string{
			e(6, "conf.abort.httpStatus: must be in the range [200, 599]")}},

		{"empty responseBandwidth", conf("  responseBandwidth: {}\n"), []string{
			e(6, "conf.responseBandwidth.limit: cannot be empty"),
			e(6, "conf.responseBandwidth.percentage: cannot be empty")}},
		{"limit without unit", conf("  responseBandwidth:\n    percentage: 10\n    limit: \"50\"\n"), []string{
			e(8, "conf.responseBandwidth.limit: has to be in kbps/mbps/gbps units")}},
		{"limit in bytes", conf("  responseBandwidth: {percentage: 10, limit: 50mb}\n"), []string{
			e(6, "conf.responseBandwidth.limit: has to be in kbps/mbps/gbps units")}},
		{"limit without number", conf("  responseBandwidth: {percentage: 10, limit: kbps}\n"), []string{
			e(6, "conf.responseBandwidth.limit: has to be in kbps/mbps/gbps units")}},
		{"limit zero", conf("  responseBandwidth: {percentage: 10, limit: 0mbps}\n"), []string{
			e(6, "conf.responseBandwidth.limit: must be at least 1kbps")}},
		{"limit too large", conf("  responseBandwidth: {percentage: 10, limit: 20000000000000gbps}\n"), []string{
			e(6, "conf.responseBandwidth.limit: is too large")}},
		{"unknown conf field", conf("  delay: {percentage: 1, value: 1s}\n  abrt: {}\n"), []string{
			e(7, `conf: unknown field "abrt"`)}},
	})
}

func TestFaultInjectionAccessors(t *testing.T) {
	objs, errs := LoadFiles([]string{"testdata/policies/faultinjection.yaml"})
	require.Empty(t, errs)
	fi := objs[0].(*FaultInjection)
	assert.Equal(t, []map[string]string{{ServiceTag: "frontend", "version": "0.1"}}, fi.SourceSelectors())
	assert.Equal(t, []map[string]string{{ServiceTag: "backend", ProtocolTag: "http"}}, fi.DestinationSelectors())
	c := fi.Spec.Conf
	require.NotNil(t, c.Abort)
	assert.Equal(t, uint32(500), *c.Abort.HTTPStatus)
	assert.Equal(t, 50.0, *c.Abort.Percentage)
	assert.Equal(t, 50.5, *c.Delay.Percentage)
	d, err := c.Delay.Duration()
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, d)
	kbps, err := c.ResponseBandwidth.LimitKbps()
	require.NoError(t, err)
	assert.Equal(t, uint64(50000), kbps)
}

func TestBandwidthLimit(t *testing.T) {
	for _, tc := range []struct {
		limit      string
		kbps, kibs uint64
	}{
		{"1kbps", 1, 1},
		{"50kbps", 50, 7}, // 6250 B/s = 6.1 KiB/s, rounded up
		{"8192kbps", 8192, 1000},
		{"1mbps", 1000, 123},
		{"1Mbps", 1000, 123},
		{"50 MBPS", 50000, 6104},
		{"2gbps", 2000000, 244141},
		{"2 Gbps", 2000000, 244141},
		{"0kbps", 0, 1},
		{"18446744073709551kbps", 18446744073709551, 2251799813685248},
		{"18446744073709gbps", 18446744073709000000, 2251799813685180665}, // the largest gbps limit
	} {
		t.Run(tc.limit, func(t *testing.T) {
			b := FaultResponseBandwidth{Limit: tc.limit}
			kbps, err := b.LimitKbps()
			require.NoError(t, err)
			assert.Equal(t, tc.kbps, kbps)
			kibs, err := b.LimitKiBps()
			require.NoError(t, err)
			assert.Equal(t, tc.kibs, kibs)
		})
	}
	for _, bad := range []string{"", "50", "50 kb", "50  kbps", "-5kbps", "5.5mbps", "50bps", "50tbps", " 50kbps", "50kbps/s", "18446744073709551616kbps", "18446744073709552mbps", "18446744073710gbps"} {
		t.Run("bad "+bad, func(t *testing.T) {
			b := FaultResponseBandwidth{Limit: bad}
			_, err := b.LimitKbps()
			assert.Error(t, err)
			_, err = b.LimitKiBps()
			assert.Error(t, err)
		})
	}
}

func TestTrafficLogValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: TrafficLog default/tl: ", line) + rest
	}
	const head = "type: TrafficLog\nname: tl\n"
	runErrCases(t, []errCase{
		{"valid without conf", head + "sources: [{match: {kuma.io/service: web, version: v1}}]\ndestinations: [{match: {kuma.io/service: \"*\"}}]\n", nil},
		{"valid with empty backend", head + "sources: [{match: {kuma.io/service: web}}]\ndestinations: [{match: {kuma.io/service: a}}]\nconf: {backend: \"\"}\n", nil},
		{"empty spec", head, []string{
			e(1, "destinations: must have at least one element"),
			e(1, "sources: must have at least one element")}},
		{"selectors without tags", head + "sources:\n- match: {}\ndestinations:\n- match: {}\n", []string{
			e(4, "sources[0].match: must have at least one tag"),
			e(4, `sources[0].match: mandatory tag "kuma.io/service" is missing`),
			e(6, `destinations[0].match: must consist of exactly one tag "kuma.io/service"`),
			e(6, `destinations[0].match: mandatory tag "kuma.io/service" is missing`)}},
		{"destination with other tags", head + `sources:
- match: {version: v1}
destinations:
- match:
    kuma.io/service: backend
    region: eu
- match:
    kuma.io/protocol: http
`, []string{
			e(4, `sources[0].match: mandatory tag "kuma.io/service" is missing`),
			e(6, `destinations[0].match: must consist of exactly one tag "kuma.io/service"`),
			e(8, `destinations[0].match["region"]: tag "region" is not allowed`),
			e(9, `destinations[1].match: must consist of exactly one tag "kuma.io/service"`),
			e(9, `destinations[1].match: mandatory tag "kuma.io/service" is missing`),
			e(10, `destinations[1].match["kuma.io/protocol"]: tag "kuma.io/protocol" is not allowed`)}},
		{"source mesh tag", head + "sources: [{match: {kuma.io/service: web, kuma.io/mesh: \"*\"}}]\ndestinations: [{match: {kuma.io/service: a}}]\n", []string{
			e(3, `sources[0].match["kuma.io/mesh"]: must name one mesh: "*" is not allowed`)}},
		{"unknown conf field", head + "sources: [{match: {kuma.io/service: web}}]\ndestinations: [{match: {kuma.io/service: a}}]\nconf:\n  backnd: file\n", []string{
			e(6, `conf: unknown field "backnd"`)}},
	})

	tl := decodeOne(t, "type: TrafficLog\nname: tl\nsources: [{match: {kuma.io/service: web}}]\ndestinations: [{match: {kuma.io/service: a}}]\n").(*TrafficLog)
	assert.Equal(t, "", tl.Backend(), "no conf: the mesh's default backend")
	objs, errs := LoadFiles([]string{"testdata/policies/trafficlog.yaml"})
	require.Empty(t, errs)
	tl = objs[0].(*TrafficLog)
	assert.Equal(t, "file", tl.Backend())
	assert.Equal(t, []map[string]string{{ServiceTag: "*"}}, tl.SourceSelectors())
	assert.Equal(t, []map[string]string{{ServiceTag: "*"}}, tl.DestinationSelectors())
}

func TestTrafficPermissionAccessors(t *testing.T) {
	objs, errs := LoadFiles([]string{"testdata/policies/trafficpermission.yaml"})
	require.Empty(t, errs)
	tp := objs[0].(*TrafficPermission)
	assert.Equal(t, "TrafficPermission default/allow-edge-to-backend", tp.DisplayName())
	assert.Equal(t, []map[string]string{
		{ServiceTag: "edge-gateway"},
		{ServiceTag: "frontend", MeshTag: "partner"},
	}, tp.SourceSelectors())
	assert.Equal(t, []map[string]string{{ServiceTag: "backend", "version": "v2"}}, tp.DestinationSelectors())
	assert.Empty(t, (&TrafficPermission{}).SourceSelectors())
}

// Each policy loads the same from its universal and its Kubernetes form (the latter written with
// snake_case keys where Kuma's protos have them), and validates.
func TestPolicyFormsAgree(t *testing.T) {
	for _, name := range []string{"trafficpermission", "faultinjection", "trafficlog", "externalservice", "mesh-logging"} {
		t.Run(name, func(t *testing.T) {
			u, errs := LoadFiles([]string{"testdata/policies/" + name + ".yaml"})
			require.Empty(t, errs)
			k, errs := LoadFiles([]string{"testdata/policies/" + name + "-k8s.yaml"})
			require.Empty(t, errs)
			require.Len(t, u, 1)
			require.Len(t, k, 1)
			assertSameResource(t, u[0], k[0])
			assert.Empty(t, u[0].Validate())
		})
	}
}

func TestPolicyKubernetesForm(t *testing.T) {
	// Kuma's old policies are cluster-scoped on Kubernetes: a namespace does not change the name.
	tp := decodeOne(t, `
apiVersion: kuma.io/v1alpha1
kind: TrafficPermission
metadata:
  name: tp
  namespace: kuma-system
  labels: {kuma.io/mesh: payments}
spec:
  sources: [{match: {kuma.io/service: web}}]
  destinations: [{match: {kuma.io/service: backend}}]
`).(*TrafficPermission)
	assert.Equal(t, "TrafficPermission payments/tp", tp.DisplayName())
	assert.Equal(t, 8, tp.Source.Fields["sources"])

	info, ok := LookupKind(KindExternalService)
	require.True(t, ok)
	assert.False(t, info.Namespaced)
	assert.False(t, info.Global)

	runErrCases(t, []errCase{
		{"errors locate the spec line", `apiVersion: kuma.io/v1alpha1
kind: FaultInjection
mesh: default
metadata:
  name: fi
spec:
  sources: []
  destinations:
  - match:
      kuma.io/service: backend
  conf:
    abort:
      httpStatus: 700
      percentage: 10
`, []string{
			"test.yaml:7: FaultInjection default/fi: sources: must have at least one element",
			"test.yaml:9: FaultInjection default/fi: destinations[0].match: protocol must be specified",
			"test.yaml:13: FaultInjection default/fi: conf.abort.httpStatus: http status code is incorrect"}},
		{"unknown spec field", "apiVersion: kuma.io/v1alpha1\nkind: TrafficLog\nmesh: default\nmetadata: {name: tl}\nspec:\n  source: []\n", []string{
			`test.yaml:6: TrafficLog default/tl: unknown field "source"`}},
	})
}
