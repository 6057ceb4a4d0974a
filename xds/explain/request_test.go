package explain

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Header
		err  bool
	}{
		{in: "x-env=prod", want: Header{"x-env", "prod"}},
		{in: "x-env: prod", want: Header{"x-env", "prod"}},
		{in: "x-list=a=b", want: Header{"x-list", "a=b"}},
		{in: "x-empty=", want: Header{"x-empty", ""}},
		{in: ":method=POST", want: Header{":method", "POST"}},
		{in: "novalue", err: true},
		{in: "=v", err: true},
		{in: ":", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseHeader(tc.in)
			if tc.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRE2Substitution(t *testing.T) {
	e := newExplainer()
	for _, tc := range []struct{ pattern, subst, in, want string }{
		{"^/service/([^/]+)(/.*)$", `\2/instance/\1`, "/service/foo/v1/api", "/v1/api/instance/foo"},
		{"one", "two", "/xxx/one/yyy/one/zzz", "/xxx/two/yyy/two/zzz"},
		{"^(.*?)one(.*)$", `\1two\2`, "/xxx/one/yyy/one/zzz", "/xxx/two/yyy/one/zzz"},
		{"(?i)/xxx/", "/yyy/", "/aaa/XxX/bbb", "/aaa/yyy/bbb"},
		{".*", "/fixed", "/anything", "/fixed"},
		{"^/a$", `/$1\\b`, "/a", `/$1\b`},
		{"x", `\0\0`, "x", "xx"},
	} {
		got, err := e.replaceAll(tc.pattern, tc.subst, tc.in)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, "%s -> %s", tc.pattern, tc.subst)
	}
}

func TestCanonicalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/a/./b/../c":  "/a/c",
		"/a/b/..":      "/a/",
		"/a/.":         "/a/",
		"/..":          "/",
		"/../../x":     "/x",
		"/%7Euser":     "/~user",
		"/a%2fb":       "/a%2Fb",
		`/a\b`:         "/a/b",
		"/%2e%2e/x":    "/x",
		"/a//b":        "/a//b",
		"/":            "/",
		"/a%zz":        "/a%zz",
		"/caf%C3%A9/x": "/caf%C3%A9/x",
	} {
		assert.Equal(t, want, canonicalPath(in), in)
	}
	assert.Equal(t, "/a/b/", mergeSlashes("//a///b//"))
}

func TestStripPort(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":       "example.com",
		"example.com:8080":  "example.com",
		"[::1]:8080":        "[::1]",
		"[::1]":             "[::1]",
		"10.0.0.1:80":       "10.0.0.1",
		"example.com:":      "example.com",
		"a:b:c":             "a:b",
		"":                  "",
		"[fe80::1%eth0]:80": "[fe80::1%eth0]",
	} {
		assert.Equal(t, want, stripPort(in), in)
	}
	for in, want := range map[string]string{"api.example.com:8443": "api.example.com", "10.0.0.1": "", "[::1]:443": "", "API.Example.com": "api.example.com"} {
		assert.Equal(t, want, defaultSNI(in), in)
	}
}

func TestConnectionManagerHostAndPath(t *testing.T) {
	e := &explainer{req: Request{Port: 8080}, out: &Result{}}
	assert.Equal(t, "a.com", e.normaliseHost(&hcmv3.HttpConnectionManager{StripPortMode: &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true}}, "a.com:9999"))
	assert.Equal(t, "a.com", e.normaliseHost(&hcmv3.HttpConnectionManager{StripMatchingHostPort: true}, "a.com:8080"))
	assert.Equal(t, "a.com:9999", e.normaliseHost(&hcmv3.HttpConnectionManager{StripMatchingHostPort: true}, "a.com:9999"))
	assert.Equal(t, "a.com:80", e.normaliseHost(&hcmv3.HttpConnectionManager{StripTrailingHostDot: true}, "a.com.:80"))
	assert.Equal(t, "a.com", e.normaliseHost(&hcmv3.HttpConnectionManager{StripTrailingHostDot: true}, "a.com."))

	reject := &hcmv3.HttpConnectionManager{PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_REJECT_REQUEST}
	_, act := e.normalisePath(reject, "/a%2fb", "")
	require.NotNil(t, act)
	assert.Equal(t, 400, act.DirectResponse.Status)

	forward := &hcmv3.HttpConnectionManager{PathWithEscapedSlashesAction: hcmv3.HttpConnectionManager_UNESCAPE_AND_FORWARD, NormalizePath: wrapperspb.Bool(true)}
	p, act := e.normalisePath(forward, `/a%2F..%5Cb`, "")
	assert.Nil(t, act)
	assert.Equal(t, "/b", p)

	keep := &hcmv3.HttpConnectionManager{}
	p, act = e.normalisePath(keep, "/a%2F..//b", "")
	assert.Nil(t, act)
	assert.Equal(t, "/a%2F..//b", p, "no normalisation configured")
}

func TestHeaderChanges(t *testing.T) {
	opt := func(k, v string, a corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
		return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}, AppendAction: a}
	}
	route := level{
		add: []*corev3.HeaderValueOption{
			opt("x-a", "route", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
			opt("x-b", "route", corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD),
			opt("x-c", "route", corev3.HeaderValueOption_ADD_IF_ABSENT),
			opt("x-d", "route", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS),
			opt("x-empty", "", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
			{Header: &corev3.HeaderValue{Key: "x-legacy", Value: "v"}, Append: wrapperspb.Bool(false), AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD},
			nil,
		},
	}
	vhost := level{remove: []string{"X-B"}, add: []*corev3.HeaderValueOption{opt("x-b", "vhost", corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)}}
	global := level{add: []*corev3.HeaderValueOption{opt("X-A", "global", corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)}}

	assert.Equal(t, &HeaderChanges{
		Set: []HeaderValue{
			{Name: "x-d", Value: "route", IfPresent: true},
			{Name: "x-legacy", Value: "v"},
			{Name: "X-A", Value: "global"},
		},
		Add: []HeaderValue{
			{Name: "x-c", Value: "route", IfAbsent: true},
			{Name: "x-b", Value: "vhost"},
		},
		Remove: []string{"X-B"},
	}, headerChanges(false, route, vhost, global))

	got := headerChanges(true, route, vhost, global)
	assert.Equal(t, []HeaderValue{{Name: "x-a", Value: "route"}, {Name: "x-d", Value: "route", IfPresent: true}, {Name: "x-legacy", Value: "v"}}, got.Set)
	assert.Nil(t, headerChanges(false, level{}, level{}))
}

func TestVhostHeader(t *testing.T) {
	rc := routeConfig("rc", vhost("a", []string{"a.com"}), vhost("b", []string{"b.com"}))
	rc.VhostHeader = "X-Tenant"
	r := request("GET", "/", map[string][]string{"x-tenant": {"b.com"}})
	r.authority = "a.com"
	assert.Equal(t, "b", selectVirtualHost(rc, r).GetName())

	// Only `*`: Envoy does not look at the host at all.
	only := routeConfig("rc", vhost("any", []string{"*"}))
	assert.Equal(t, "any", selectVirtualHost(only, request("GET", "/", nil)).GetName())
	assert.Nil(t, selectVirtualHost(&routev3.RouteConfiguration{}, request("GET", "/", nil)))
}
