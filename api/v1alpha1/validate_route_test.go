package v1alpha1

import "testing"

// route builds an HTTP MeshGatewayRoute document; its rules start on line 8.
func route(rules string) string {
	return "type: MeshGatewayRoute\nname: r\nselectors:\n- match: {kuma.io/service: gw}\nconf:\n  http:\n    rules:\n" + doc(rules)
}

func TestMeshGatewayRouteValidation(t *testing.T) {
	e := func(line int, rest string) string {
		return sprintf("test.yaml:%d: MeshGatewayRoute default/r: ", line) + rest
	}
	runErrCases(t, []errCase{
		{"valid", route(`
    - matches:
      - path: {match: PREFIX, value: /}
      - path: {match: REGEX, value: "^/v[0-9]+/.*$"}
      - method: GET
        headers: [{name: ":authority", value: a}, {match: REGEX, name: x-r, value: "a|b"}, {match: ABSENT, name: x-a}]
        queryParameters: [{match: REGEX, name: q, value: "[a-z]+"}]
      filters:
      - rewrite: {replacePrefixMatch: /v2, hostToBackendHostname: true}
      - requestHeader: {set: [{name: x-env, value: prod}], add: [{name: x-b, value: "1"}], remove: [x-internal]}
      - responseHeader: {set: [{name: x-served-by, value: gw}]}
      - mirror: {percentage: 12.5, backend: {destination: {kuma.io/service: shadow}}}
      backends:
      - weight: 0
        destination: {kuma.io/service: api, version: "*"}
      - destination: {kuma.io/service: api}
    - matches: [{path: {value: /old}}]
      filters: [{redirect: {scheme: https, hostname: example.com, port: 8443, statusCode: 308, path: {replaceFull: /new}}}]
`) + "    hostnames: [\"*\", \"*.example.com\", example.com]\n", nil},
		{"valid tcp", "type: MeshGatewayRoute\nname: r\nselectors: [{match: {kuma.io/service: gw}}]\nconf:\n  tcp:\n    rules: [{backends: [{destination: {kuma.io/service: db}}]}]\n", nil},

		// docs/kuma-compatibility.md#meshgatewayroute-validation rules 1-3.
		{"no selectors", "type: MeshGatewayRoute\nname: r\nconf: {tcp: {rules: [{backends: [{destination: {kuma.io/service: db}}]}]}}\n", []string{
			e(1, "selectors: must have at least one element")}},
		{"selector without service", "type: MeshGatewayRoute\nname: r\nselectors:\n- match: {port: http}\nconf: {tcp: {rules: [{backends: [{destination: {kuma.io/service: db}}]}]}}\n", []string{
			e(4, `selectors[0].match: mandatory tag "kuma.io/service" is missing`)}},
		{"no conf", "type: MeshGatewayRoute\nname: r\nselectors: [{match: {kuma.io/service: gw}}]\n", []string{
			e(1, "conf: cannot be empty")}},
		{"empty conf", "type: MeshGatewayRoute\nname: r\nselectors: [{match: {kuma.io/service: gw}}]\nconf: {}\n", []string{
			e(4, "conf: cannot be empty")}},
		{"no http rules", "type: MeshGatewayRoute\nname: r\nselectors: [{match: {kuma.io/service: gw}}]\nconf:\n  http:\n    hostnames: [a.example.com]\n", []string{
			e(5, "conf.http.rules: cannot be empty")}},

		// docs/kuma-compatibility.md#meshgatewayroute-validation: matches.
		{"no matches", route(`
    - backends: [{destination: {kuma.io/service: api}}]
`), []string{e(8, "conf.http.rules[0].matches: cannot be empty")}},
		{"empty match", route(`
    - matches:
      - {}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(9, "conf.http.rules[0].matches[0]: cannot be empty")}},
		{"empty regex path", route(`
    - matches:
      - path:
          match: REGEX
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(9, "conf.http.rules[0].matches[0].path.value: cannot be empty")}},
		{"relative exact path", route(`
    - matches:
      - path:
          value: api
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(10, "conf.http.rules[0].matches[0].path.value: must be an absolute path")}},
		{"relative prefix path", route(`
    - matches:
      - path: {match: PREFIX, value: api}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(9, "conf.http.rules[0].matches[0].path.value: must be an absolute path")}},
		{"header without name", route(`
    - matches:
      - headers:
        - value: x
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(10, "conf.http.rules[0].matches[0].headers[0].name: cannot be empty")}},
		{"header without value", route(`
    - matches:
      - headers:
        - name: x-a
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(10, "conf.http.rules[0].matches[0].headers[0].value: cannot be empty")}},
		{"absent header with value", route(`
    - matches:
      - headers:
        - match: ABSENT
          name: x-a
          value: x
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(12, "conf.http.rules[0].matches[0].headers[0].value: cannot be set")}},
		{"present header with value", route(`
    - matches:
      - headers: [{match: PRESENT, name: x-a, value: x}]
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(9, "conf.http.rules[0].matches[0].headers[0].value: cannot be set")}},
		{"query parameter without name and value", route(`
    - matches:
      - query_parameters:
        - match: EXACT
      backends: [{destination: {kuma.io/service: api}}]
`), []string{
			e(10, "conf.http.rules[0].matches[0].queryParameters[0].name: cannot be empty"),
			e(10, "conf.http.rules[0].matches[0].queryParameters[0].value: cannot be empty")}},

		// docs/kuma-compatibility.md#meshgatewayroute-validation: filters.
		{"empty request header filter", route(`
    - matches: [{method: GET}]
      filters:
      - request_header: {}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(10, "conf.http.rules[0].filters[0].requestHeader: cannot be empty")}},
		{"request header without name and value", route(`
    - matches: [{method: GET}]
      filters:
      - requestHeader:
          set:
          - {name: "", value: ""}
          add:
          - name: x-a
      backends: [{destination: {kuma.io/service: api}}]
`), []string{
			e(12, "conf.http.rules[0].filters[0].requestHeader.set[0].name: cannot be empty"),
			e(12, "conf.http.rules[0].filters[0].requestHeader.set[0].value: cannot be empty"),
			e(14, "conf.http.rules[0].filters[0].requestHeader.add[0].value: cannot be empty")}},
		{"empty header to remove", route(`
    - matches: [{method: GET}]
      filters:
      - requestHeader:
          remove: [""]
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(11, "conf.http.rules[0].filters[0].requestHeader.remove[0]: cannot be empty")}},
		{"host header with host rewrite", route(`
    - matches: [{method: GET}]
      filters:
      - rewrite: {host_to_backend_hostname: true}
      - request_header:
          set:
          - {name: host, value: a}
          add:
          - {name: ":authority", value: a}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{
			e(13, "conf.http.rules[0].filters[1].requestHeader.set[0]: cannot modify 'host' header, when route has set 'rewrite.host_to_backend_hostname' option"),
			e(15, "conf.http.rules[0].filters[1].requestHeader.add[0]: cannot modify ':authority' header, when route has set 'rewrite.host_to_backend_hostname' option")}},
		{"redirect port out of range", route(`
    - matches: [{method: GET}]
      filters:
      - redirect:
          port: 70000
          statusCode: 302
`), []string{e(11, "conf.http.rules[0].filters[0].redirect.port: port must be in the range [1, 65535]")}},
		{"redirect status code out of range", route(`
    - matches: [{method: GET}]
      filters:
      - redirect:
          status_code: 404
`), []string{e(11, "conf.http.rules[0].filters[0].redirect.statusCode: must be in the range [300, 308]")}},
		{"redirect without status code", route(`
    - matches: [{method: GET}]
      filters:
      - redirect:
          scheme: https
`), []string{e(10, "conf.http.rules[0].filters[0].redirect.statusCode: must be in the range [300, 308]")}},
		{"mirror without percentage", route(`
    - matches: [{method: GET}]
      filters:
      - mirror:
          backend: {destination: {kuma.io/service: shadow}}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(10, "conf.http.rules[0].filters[0].mirror.percentage: cannot be empty")}},
		{"mirror percentage above 100", route(`
    - matches: [{method: GET}]
      filters:
      - mirror:
          percentage: 100.5
          backend: {destination: {kuma.io/service: shadow}}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(11, "conf.http.rules[0].filters[0].mirror.percentage: has to be in [0.0 - 100.0] range")}},
		{"mirror percentage below 0", route(`
    - matches: [{method: GET}]
      filters:
      - mirror:
          percentage: -1
          backend: {destination: {kuma.io/service: shadow}}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(11, "conf.http.rules[0].filters[0].mirror.percentage: has to be in [0.0 - 100.0] range")}},
		{"mirror without backend", route(`
    - matches: [{method: GET}]
      filters:
      - mirror:
          percentage: 5
      backends: [{destination: {kuma.io/service: api}}]
`), []string{
			e(10, "conf.http.rules[0].filters[0].mirror.backend.destination: must have at least one tag"),
			e(10, `conf.http.rules[0].filters[0].mirror.backend.destination: mandatory tag "kuma.io/service" is missing`)}},
		{"prefix rewrite without prefix match", route(`
    - matches: [{path: {value: /exact}}]
      filters:
      - rewrite:
          replacePrefixMatch: /
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(11, "conf.http.rules[0].filters[0].rewrite.replacePrefixMatch: cannot be used without a match on path prefix")}},

		// docs/kuma-compatibility.md#meshgatewayroute-validation: redirects and backends.
		{"redirect with other filters", route(`
    - matches: [{method: GET}]
      filters:
      - redirect: {statusCode: 301}
      - requestHeader: {remove: [x-a]}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(9, "conf.http.rules[0].filters: redirects cannot be used with other filters")}},
		{"no backends", route(`
    - matches: [{method: GET}]
`), []string{e(8, "conf.http.rules[0].backends: cannot be empty")}},
		{"redirect with backends", route(`
    - matches: [{method: GET}]
      filters: [{redirect: {statusCode: 301}}]
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(10, "conf.http.rules[0].backends: must be empty when using redirect filters")}},
		{"backend without service", route(`
    - matches: [{method: GET}]
      backends:
      - destination:
          version: v1
`), []string{e(10, `conf.http.rules[0].backends[0].destination: mandatory tag "kuma.io/service" is missing`)}},
		{"backend without destination", route(`
    - matches: [{method: GET}]
      backends:
      - weight: 1
`), []string{
			e(10, "conf.http.rules[0].backends[0].destination: must have at least one tag"),
			e(10, `conf.http.rules[0].backends[0].destination: mandatory tag "kuma.io/service" is missing`)}},

		// Gaps (docs/kuma-compatibility.md#meshgatewayroute-validation).
		{"redirect status code Envoy cannot send", route(`
    - matches: [{method: GET}]
      filters:
      - redirect:
          statusCode: 304
`), []string{e(11, "conf.http.rules[0].filters[0].redirect.statusCode: must be one of 301, 302, 303, 307, 308")}},
		{"invalid route hostnames", "type: MeshGatewayRoute\nname: r\nselectors: [{match: {kuma.io/service: gw}}]\nconf:\n  http:\n    hostnames:\n    - Foo.example.com\n    - \"*.*.example.com\"\n    rules: [{matches: [{method: GET}], backends: [{destination: {kuma.io/service: api}}]}]\n", []string{
			e(7, "conf.http.hostnames[0]: invalid hostname"),
			e(8, "conf.http.hostnames[1]: invalid wildcard domain")}},
		{"both tcp and http", "type: MeshGatewayRoute\nname: r\nselectors: [{match: {kuma.io/service: gw}}]\nconf:\n  tcp: {rules: [{backends: [{destination: {kuma.io/service: db}}]}]}\n  http: {rules: [{matches: [{method: GET}], backends: [{destination: {kuma.io/service: api}}]}]}\n", []string{
			e(4, "conf: only one of tcp or http can be set")}},
		{"tcp without rules or backends", "type: MeshGatewayRoute\nname: r\nselectors: [{match: {kuma.io/service: gw}}]\nconf:\n  tcp:\n    rules:\n    - backends: []\n", []string{
			e(7, "conf.tcp.rules[0].backends: cannot be empty")}},
		{"tcp all weights zero", "type: MeshGatewayRoute\nname: r\nselectors: [{match: {kuma.io/service: gw}}]\nconf:\n  tcp:\n    rules:\n    - backends:\n      - {weight: 0, destination: {kuma.io/service: db}}\n", []string{
			e(7, "conf.tcp.rules[0].backends: at least one backend must have a non-zero weight")}},
		{"empty filter element", route(`
    - matches: [{method: GET}]
      filters:
      - {}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(10, "conf.http.rules[0].filters[0]: cannot be empty")}},
		{"two filters in one element", route(`
    - matches: [{path: {match: PREFIX, value: /a}}]
      filters:
      - requestHeader: {remove: [x-a]}
        rewrite: {replacePrefixMatch: /b}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(10, "conf.http.rules[0].filters[0]: must set exactly one filter, found requestHeader, rewrite")}},
		{"rewrite with both paths", route(`
    - matches: [{path: {match: PREFIX, value: /a}}]
      filters:
      - rewrite:
          replaceFull: /b
          replacePrefixMatch: /c
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(10, "conf.http.rules[0].filters[0].rewrite: only one of replaceFull or replacePrefixMatch can be set")}},
		{"redirect path with both paths", route(`
    - matches: [{path: {match: PREFIX, value: /a}}]
      filters:
      - redirect:
          statusCode: 301
          path: {replaceFull: /b, replacePrefixMatch: /c}
`), []string{e(12, "conf.http.rules[0].filters[0].redirect.path: only one of replaceFull or replacePrefixMatch can be set")}},
		{"empty rewrite", route(`
    - matches: [{method: GET}]
      filters:
      - rewrite: {}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(10, "conf.http.rules[0].filters[0].rewrite: cannot be empty")}},
		{"all weights zero", route(`
    - matches: [{method: GET}]
      backends:
      - weight: 0
        destination: {kuma.io/service: a}
      - weight: 0
        destination: {kuma.io/service: b}
`), []string{e(9, "conf.http.rules[0].backends: at least one backend must have a non-zero weight")}},
		{"invalid path regex", route(`
    - matches:
      - path: {match: REGEX, value: "/api/(v1"}
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(9, "conf.http.rules[0].matches[0].path.value: invalid regular expression: missing closing ): `/api/(v1`")}},
		{"invalid header and query regex", route(`
    - matches:
      - headers: [{match: REGEX, name: x-a, value: "a**"}]
        queryParameters: [{match: REGEX, name: q, value: "[a-"}]
      backends: [{destination: {kuma.io/service: api}}]
`), []string{
			e(9, "conf.http.rules[0].matches[0].headers[0].value: invalid regular expression: invalid nested repetition operator: `**`"),
			e(10, "conf.http.rules[0].matches[0].queryParameters[0].value: invalid regular expression: missing closing ]: `[a-`")}},
		{"invalid header names", route(`
    - matches:
      - headers: [{name: "x debug", value: a}]
      filters:
      - requestHeader:
          set: [{name: "x(y)", value: a}]
          remove: ["a:b"]
      - responseHeader:
          add: [{name: "", value: a}]
      backends: [{destination: {kuma.io/service: api}}]
`), []string{
			e(9, "conf.http.rules[0].matches[0].headers[0].name: must be a valid HTTP header name"),
			e(12, "conf.http.rules[0].filters[0].requestHeader.set[0].name: must be a valid HTTP header name"),
			e(13, "conf.http.rules[0].filters[0].requestHeader.remove[0]: must be a valid HTTP header name"),
			e(15, "conf.http.rules[0].filters[1].responseHeader.add[0].name: cannot be empty")}},
		{"pseudo-headers cannot be modified or removed", route(`
    - matches: [{method: GET}]
      filters:
      - requestHeader:
          set: [{name: ":path", value: /x}]
          remove: [":authority", Host]
      backends: [{destination: {kuma.io/service: api}}]
`), []string{
			e(11, `conf.http.rules[0].filters[0].requestHeader.set[0].name: pseudo-header ":path" cannot be modified`),
			e(12, `conf.http.rules[0].filters[0].requestHeader.remove[0]: ":authority" cannot be removed`),
			e(12, `conf.http.rules[0].filters[0].requestHeader.remove[1]: "Host" cannot be removed`)}},
		{"unknown method", route(`
    - matches:
      - method: FETCH
      backends: [{destination: {kuma.io/service: api}}]
`), []string{e(9, "conf.http.rules[0].matches[0].method: must be one of CONNECT, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE")}},
	})
}
