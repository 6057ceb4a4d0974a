package explain

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The JSON form is the `meshgate explain -o json` contract: this test pins its field names.
func TestJSONContract(t *testing.T) {
	r := explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/api/users?page=2"})
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{
	  "listener": "edge:HTTP:8080",
	  "filterChain": "edge:HTTP:8080:*",
	  "connection": {"tls": false},
	  "filters": ["envoy.filters.network.connection_limit", "envoy.filters.network.http_connection_manager"],
	  "httpFilters": ["envoy.filters.http.router"],
	  "connectionLimit": 100,
	  "routeConfig": "edge:HTTP:8080:*",
	  "virtualHost": "any",
	  "route": {"name": "api-route", "mesh": "default", "rule": 1, "match": 0, "envoyRoute": "api-route/rules[1]/matches[0]"},
	  "envoyRoute": "api-route/rules[1]/matches[0]",
	  "match": {"prefix": "/api/"},
	  "action": {
	    "forward": [{"cluster": "api", "weight": 1, "service": "api", "destination": {"kuma.io/service": "api", "version": "v1"}, "endpoints": 3,
	      "type": "EDS", "addresses": ["10.1.0.1:8000", "10.1.0.1:8001", "10.1.0.1:8002"]}],
	    "rewrite": {"prefix": "/", "replaces": "/api/"},
	    "upstreamPath": "/users?page=2",
	    "upstreamHost": "gw.local",
	    "requestHeaders": {"set": [{"name": "x-gateway", "value": "edge"}], "add": [{"name": "x-trace", "value": "1"}], "remove": ["x-internal"]},
	    "responseHeaders": {"set": [{"name": "strict-transport-security", "value": "max-age=31536000"}]},
	    "mirrors": [{"cluster": "api-shadow", "percent": 10}],
	    "timeout": "30s"
	  }
	}`, string(b))

	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Method: "POST", Path: "/q?id=7", Headers: []Header{{"x-canary", "1"}}})
	b, err = json.Marshal(r.Match)
	require.NoError(t, err)
	assert.JSONEq(t, `{"prefix": "/q", "queryParameters": [{"name": "id", "regex": "[0-9]+"}]}`, string(b))

	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/h/", Headers: []Header{{"x-beta", "yes"}}})
	b, err = json.Marshal(r.Match)
	require.NoError(t, err)
	assert.JSONEq(t, `{"prefix": "/h/", "headers": [{"name": "x-beta", "exact": "no", "invert": true}]}`, string(b))

	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/nowhere"})
	b, err = json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{
	  "listener": "edge:HTTP:8080", "filterChain": "edge:HTTP:8080:*", "connection": {"tls": false},
	  "filters": ["envoy.filters.network.connection_limit", "envoy.filters.network.http_connection_manager"],
	  "httpFilters": ["envoy.filters.http.router"], "connectionLimit": 100,
	  "routeConfig": "edge:HTTP:8080:*", "virtualHost": "any",
	  "action": {"directResponse": {"status": 404}},
	  "reason": "no route matches"
	}`, string(b))
}

func TestText(t *testing.T) {
	r := explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/api/users?page=2", Headers: []Header{{"x-internal", "1"}}})
	assert.Equal(t, `listener          edge:HTTP:8080  (plaintext)
filter chain      edge:HTTP:8080:*
connection limit  100 concurrent connections
route config      edge:HTTP:8080:*
virtual host      any
route             default/api-route rules[1] matches[0]  (Envoy route api-route/rules[1]/matches[0])
match             prefix /api/
action            forward to api  {kuma.io/service=api, version=v1}  3 endpoints
rewrite           prefix /api/ -> /
upstream          gw.local/users?page=2
request headers   remove x-internal; set x-gateway: edge; add x-trace: 1
response headers  set strict-transport-security: max-age=31536000
mirror            api-shadow (10%)
timeout           30s
`, r.Text())

	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/broken"})
	assert.Contains(t, r.Text(), `action            forward, split by weight across 2 clusters:
                    api  weight 50  {kuma.io/service=api, version=v1}  3 endpoints
                    kuma.io/unresolved-backend  weight 50  MISSING: Envoy answers 500
`)

	r = explainOK(t, Request{Port: 8443, Host: "api.example.com", Plaintext: true})
	assert.Equal(t, `listener  edge:HTTPS:8443  (plaintext)
action    close the connection
reason    no filter chain matches transport protocol raw_buffer: Envoy closes the connection
`, r.Text())

	r = explainOK(t, Request{Port: 8443, Host: "x.example.com:8443", Path: "/old"})
	assert.Contains(t, r.Text(), "listener          edge:HTTPS:8443  (TLS, SNI x.example.com)\n")
	assert.Contains(t, r.Text(), "note              TLS assumed: every filter chain of the listener requires it\n")

	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Method: "POST", Path: "/api/x", Headers: []Header{{"x-env", "1"}}})
	assert.Contains(t, r.Text(), "match             prefix /api/, :method = POST\n")
	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/h/", Headers: []Header{{"x-beta", "yes"}}})
	assert.Contains(t, r.Text(), "match             prefix /h/, not x-beta = no\n")
	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/h/"})
	assert.Contains(t, r.Text(), "match             prefix /h/, x-legacy absent\n")
	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/old/x"})
	assert.Contains(t, r.Text(), "action            redirect 302 to https://new.example.com/new/x\n")
	r = explainOK(t, Request{Port: 8080, Host: "gw.local", Path: "/health"})
	assert.Contains(t, r.Text(), "action            respond 200 \"ok\"\n")
}
