package v1alpha1

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrafficRouteValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: TrafficRoute default/tr: ", line) + rest
	}
	const head = "type: TrafficRoute\nname: tr\nsources: [{match: {kuma.io/service: web}}]\n" +
		"destinations: [{match: {kuma.io/service: backend}}]\n"
	// conf starts on line 5, its first field on line 6.
	conf := func(s string) string { return head + "conf:\n" + doc(s) }
	runErrCases(t, []errCase{
		{"valid destination", conf("  destination: {kuma.io/service: backend}\n"), nil},
		{"valid split", conf("  split: [{weight: 0, destination: {kuma.io/service: a}}, {weight: 1, destination: {kuma.io/service: b, version: '*'}}]\n"), nil},
		{"valid load balancers", conf("  destination: {kuma.io/service: backend}\n  loadBalancer: {leastRequest: {choiceCount: 3}}\n"), nil},
		{"empty spec", "type: TrafficRoute\nname: tr\n", []string{
			e(1, "conf: cannot be empty"),
			e(1, "destinations: must have at least one element"),
			e(1, "sources: must have at least one element")}},
		{"selectors", "type: TrafficRoute\nname: tr\nsources: [{match: {region: eu}}]\n" +
			"destinations: [{match: {kuma.io/service: backend, version: v1}}]\nconf: {destination: {kuma.io/service: b}}\n", []string{
			e(3, `sources[0].match: mandatory tag "kuma.io/service" is missing`),
			e(4, `destinations[0].match: must consist of exactly one tag "kuma.io/service"`),
			e(4, `destinations[0].match["version"]: tag "version" is not allowed`)}},
		{"empty conf", head + "conf: {}\n", []string{
			e(5, `conf: requires either "destination" or "split"`)}},
		{"split and destination", conf(`
  destination: {version: v1}
  split:
  - destination: {}
  - weight: 0
    destination: {kuma.io/service: "a b"}
`), []string{
			e(5, `conf: "split" cannot be defined at the same time as "destination"`),
			e(6, `conf.destination: mandatory tag "kuma.io/service" is missing`),
			e(7, "conf.split: there must be at least one split entry with weight above 0"),
			e(8, "conf.split[0].destination: must have at least one tag"),
			e(8, `conf.split[0].destination: mandatory tag "kuma.io/service" is missing`),
			e(8, "conf.split[0].weight: needs to be defined"),
			e(10, `conf.split[1].destination["kuma.io/service"]: tag value must consist of alphanumeric characters, dots, dashes, slashes and underscores or be "*"`)}},
		{"load balancer", conf(`
  destination: {kuma.io/service: b}
  loadBalancer:
    random: {}
    ringHash: {hashFunction: SHA}
`), []string{
			e(7, `conf.loadBalancer: only one of "roundRobin", "leastRequest", "ringHash", "random" or "maglev" can be set`),
			e(9, "conf.loadBalancer.ringHash.hashFunction: must have a valid hash function")}},
		{"http rules", conf(`
  destination: {kuma.io/service: b}
  http:
  - destination: {kuma.io/service: c}
  - match:
      method: {}
      path: {prefix: "", exact: /}
      headers:
        x-a: {regex: ""}
    split: [{weight: 1, destination: {kuma.io/service: d}}]
  - match:
      headers: {}
    destination: {kuma.io/service: e}
`), []string{
			e(8, `conf.http[0].match: must be present and contain at least one of the elements: "method", "path" or "headers"`),
			e(10, `conf.http[1].match.method: cannot be empty. Available options: "exact", "prefix" or "regex"`),
			e(11, `conf.http[1].match.path: only one of "exact", "prefix" or "regex" can be set`),
			e(13, `conf.http[1].match.headers["x-a"].regex: cannot be empty`),
			e(16, "conf.http[2].match.headers: must contain at least one element")}},
		{"http modify", conf(`
  destination: {kuma.io/service: b}
  http:
  - match: {path: {exact: /a}}
    modify:
      path: {rewritePrefix: /b}
      host: {}
      requestHeaders:
        add:
        - {name: host, value: x}
        - {name: x-a, value: ""}
        remove:
        - name: ":authority"
        - name: ""
      responseHeaders:
        add: [{name: "", value: v}]
    destination: {kuma.io/service: c}
  - match: {path: {prefix: /a}}
    modify:
      path: {rewritePrefix: "", regex: {pattern: a, substitution: b}}
      host: {fromPath: {}}
    destination: {kuma.io/service: c}
  - match: {path: {prefix: /a}}
    modify:
      path: {regex: {pattern: "", substitution: ""}}
      host: {value: ""}
    destination: {kuma.io/service: c}
`), []string{
			e(10, `conf.http[0].modify.path.rewritePrefix: can only be set when .http.match.path.prefix is not empty`),
			e(11, `conf.http[0].modify.host: either "value" or "fromPath" has to be set`),
			e(14, `conf.http[0].modify.requestHeaders.add[0].name: host header and HTTP/2 pseudo-headers are not allowed to be modified`),
			e(15, `conf.http[0].modify.requestHeaders.add[1].value: cannot be empty`),
			e(17, `conf.http[0].modify.requestHeaders.remove[0].name: host header and HTTP/2 pseudo-headers are not allowed to be modified`),
			e(18, `conf.http[0].modify.requestHeaders.remove[1].name: cannot be empty`),
			e(20, `conf.http[0].modify.responseHeaders.add[0].name: cannot be empty`),
			e(24, `conf.http[1].modify.path: only one of "rewritePrefix" or "regex" can be set`),
			e(25, `conf.http[1].modify.host.fromPath.pattern: cannot be empty`),
			e(25, `conf.http[1].modify.host.fromPath.substitution: cannot be empty`),
			e(29, `conf.http[2].modify.path.regex.pattern: cannot be empty`),
			e(29, `conf.http[2].modify.path.regex.substitution: cannot be empty`),
			e(30, `conf.http[2].modify.host.value: cannot be empty`)}},
		{"unknown field", conf("  destination: {kuma.io/service: b}\n  loadBalancer: {ringHash: {hash_func: XX_HASH}}\n"), []string{
			e(7, `conf.loadBalancer.ringHash: unknown field "hash_func"`)}},
	})

	tr := loadPolicy[*TrafficRoute](t, "trafficroute")
	assert.Equal(t, []map[string]string{{ServiceTag: "web"}}, tr.SourceSelectors())
	assert.Equal(t, []map[string]string{{ServiceTag: "backend"}}, tr.DestinationSelectors())
	c := tr.Spec.Conf
	assert.Equal(t, map[string]string{ServiceTag: "backend"}, c.Destination)
	assert.Equal(t, "MURMUR_HASH_2", c.LoadBalancer.RingHash.HashFunction)
	assert.Equal(t, uint64(1024), c.LoadBalancer.RingHash.MaxRingSize)
	require.Len(t, c.HTTP, 2)
	assert.Equal(t, "/api", *c.HTTP[0].Match.Path.Prefix)
	assert.Equal(t, "^v[12]$", *c.HTTP[0].Match.Headers["x-version"].Regex)
	assert.Equal(t, uint32(90), *c.HTTP[0].Split[0].Weight)
	assert.Equal(t, `\1.example.com`, c.HTTP[1].Modify.Host.FromPath.Substitution)
}

func TestVirtualOutboundValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: VirtualOutbound default/vo: ", line) + rest
	}
	const head = "type: VirtualOutbound\nname: vo\nselectors: [{match: {region: eu}}]\n"
	// conf starts on line 4, its first field on line 5.
	conf := func(s string) string { return head + "conf:\n" + doc(s) }
	const svc = "  parameters: [{name: svc, tagKey: kuma.io/service}]\n"
	runErrCases(t, []errCase{
		{"valid", conf("  host: '{{.svc}}.mesh'\n  port: '8080'\n" + svc), nil},
		{"empty spec", "type: VirtualOutbound\nname: vo\n", []string{
			e(1, "conf: has to be defined"),
			e(1, "selectors: must have at least one element")}},
		{"selectors", "type: VirtualOutbound\nname: vo\nselectors:\n- match: {}\n- match: {kuma.io/service: ''}\n" +
			"conf: {host: a.mesh, port: '80', parameters: [{name: s, tagKey: kuma.io/service}]}\n", []string{
			e(4, "selectors[0].match: must have at least one tag"),
			e(5, `selectors[1].match["kuma.io/service"]: tag value must be non-empty`)}},
		{"empty conf", head + "conf: {}\n", []string{
			e(4, "conf.host: has to be defined"),
			e(4, "conf.parameters: must contain a parameter with kuma.io/service as a tagKey"),
			e(4, "conf.port: has to be defined")}},
		{"parameters", conf(`
  host: a.mesh
  port: "80"
  parameters:
  - name: svc
    tagKey: kuma.io/service
  - name: svc
    tagKey: "a b"
  - name: "x y"
  - name: my_tag
`), []string{
			e(10, "conf.parameters[1].name: name is already used"),
			e(11, "conf.parameters[1].tagKey: must be a valid tag name"),
			e(12, "conf.parameters[2].name: must be a valid tag name if you are not setting tagKey"),
			e(12, "conf.parameters[2].name: must consist of alphanumeric characters to be used as a gotemplate key"),
			e(13, "conf.parameters[3].name: must consist of alphanumeric characters to be used as a gotemplate key")}},
		{"templates", conf("  host: 'foo.{{mesh'\n  port: '{{.svc}}a'\n" + svc), []string{
			e(5, `conf.host: template pre evaluation failed with error='failed compiling gotemplate error="template: :1: function \"mesh\" not defined"'`),
			e(6, `conf.port: template pre evaluation failed with error='evaluation of template with parameters didn't evaluate to a parsable number result="1a"'`)}},
		{"template results", conf("  host: '{{.svc}}..mesh'\n  port: '{{.svc}}0000000'\n" + svc), []string{
			e(5, `conf.host: template pre evaluation failed with error='evaluation of template with parameters didn't return a valid dns name result="dummy..mesh"'`),
			e(6, `conf.port: template pre evaluation failed with error='evaluation of template returned a port outside of the range [1..65535] result=10000000'`)}},
		// meshgate bounds template evaluation.
		{"unbounded templates", conf("  host: '{{range 1000000000}}{{end}}a.mesh'\n  port: '{{printf \"%0999999999d\" 1}}'\n" + svc), []string{
			e(5, `conf.host: template pre evaluation failed with error='failed compiling gotemplate error="range actions are not supported"'`),
			e(6, `conf.port: template pre evaluation failed with error='pre evaluation of template with parameters failed with error="template: :1:2: executing \"\" at <printf \"%0999999999d\" 1>: error calling printf: printf: width or precision too large"'`)}},
		{"recursive template", conf("  host: '{{define \"a\"}}{{template \"a\"}}{{end}}{{template \"a\"}}'\n  port: '80'\n" + svc), []string{
			e(5, `conf.host: template pre evaluation failed with error='failed compiling gotemplate error="template actions are not supported"'`)}},
	})

	vo := loadPolicy[*VirtualOutbound](t, "virtualoutbound")
	assert.Equal(t, []map[string]string{{ServiceTag: "*"}}, vo.Selectors())
	host, err := vo.EvalHost(map[string]string{ServiceTag: "backend", "version": "v2", "port": "8080"})
	require.NoError(t, err)
	assert.Equal(t, "v2.backend.mesh", host)
	port, err := vo.EvalPort(map[string]string{ServiceTag: "backend", "version": "v2", "port": "8080"})
	require.NoError(t, err)
	assert.Equal(t, uint32(8080), port)
	_, err = vo.EvalPort(map[string]string{ServiceTag: "backend"})
	assert.Error(t, err, "a missing tag renders as <no value>")
	assert.Equal(t, "port", vo.Spec.Conf.Parameters[2].TagKeyOrName())

	// printf stays usable with ordinary formats.
	s, err := boundedPrintf("%s-%02d%%:%v", "a", 7, 255)
	require.NoError(t, err)
	assert.Equal(t, "a-07%:255", s)
	_, err = boundedPrintf("%*d", 5, 1)
	assert.Error(t, err)
	_, err = boundedPrintf("%.300f", 1.0)
	assert.Error(t, err)
}
