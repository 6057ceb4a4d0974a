package render_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/render"
)

// goldenRequest is one entry of a case's requests.yaml (see testdata/golden/README.md).
type goldenRequest struct {
	Port    uint32            `json:"port"`
	Host    string            `json:"host"`
	Path    string            `json:"path"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	SNI     string            `json:"sni"`
	Expect  struct {
		VirtualHost string `json:"virtualHost"`
		Route       *struct {
			Name  string `json:"name"`
			Rule  int    `json:"rule"`
			Match int    `json:"match"`
		} `json:"route"`
		Forward []struct {
			Cluster string `json:"cluster"`
			Weight  uint32 `json:"weight"`
		} `json:"forward"`
		Redirect *struct {
			Scheme     string `json:"scheme"`
			Host       string `json:"host"`
			Port       uint32 `json:"port"`
			StatusCode int    `json:"statusCode"`
		} `json:"redirect"`
		DirectResponse *struct {
			Status int `json:"status"`
		} `json:"directResponse"`
		UpstreamPath string `json:"upstreamPath"`
	} `json:"expect"`
}

// checkRequests runs every request of the case through explain, which reads only the rendered
// Envoy resources, so the goldens and the explanations can never disagree silently.
func checkRequests(t *testing.T, dir string, out *render.Output) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "requests.yaml"))
	require.NoError(t, err)
	var reqs []goldenRequest
	require.NoError(t, yaml.UnmarshalStrict(raw, &reqs))
	for i, gr := range reqs {
		t.Run(fmt.Sprintf("request-%d %s%s", i, gr.Host, gr.Path), func(t *testing.T) {
			req := explain.Request{Port: gr.Port, Host: gr.Host, Path: gr.Path, Method: gr.Method, SNI: gr.SNI}
			hnames := make([]string, 0, len(gr.Headers))
			for n := range gr.Headers {
				hnames = append(hnames, n)
			}
			sort.Strings(hnames)
			for _, n := range hnames {
				req.Headers = append(req.Headers, explain.Header{Name: n, Value: gr.Headers[n]})
			}
			res, err := explain.Explain(out.Resources, req)
			require.NoError(t, err)
			require.NotNil(t, res.Action, "no action: %s", res.Reason)
			want := gr.Expect
			assert.Equal(t, want.VirtualHost, res.VirtualHost, "virtual host")
			if want.Route == nil {
				assert.Nil(t, res.Route, "route")
			} else if assert.NotNil(t, res.Route, "route") {
				assert.Equal(t, want.Route.Name, res.Route.Name, "route name")
				assert.Equal(t, want.Route.Rule, res.Route.Rule, "rule")
				assert.Equal(t, want.Route.Match, res.Route.Match, "match")
			}
			switch {
			case want.Forward != nil:
				got := make([]string, len(res.Action.Forward))
				for i, b := range res.Action.Forward {
					got[i] = fmt.Sprintf("%s/%d", b.Cluster, b.Weight)
				}
				exp := make([]string, len(want.Forward))
				for i, b := range want.Forward {
					exp[i] = fmt.Sprintf("%s/%d", b.Cluster, b.Weight)
				}
				assert.Equal(t, exp, got, "forward")
				if want.UpstreamPath != "" {
					assert.Equal(t, want.UpstreamPath, res.Action.UpstreamPath, "upstream path")
				}
			case want.Redirect != nil:
				rd := res.Action.Redirect
				require.NotNil(t, rd, "want a redirect, got %+v", res.Action)
				if want.Redirect.Scheme != "" {
					assert.Equal(t, want.Redirect.Scheme, rd.Scheme)
				}
				if want.Redirect.Host != "" {
					assert.Equal(t, want.Redirect.Host, rd.Host)
				}
				if want.Redirect.Port != 0 {
					assert.Equal(t, want.Redirect.Port, rd.Port)
				}
				if want.Redirect.StatusCode != 0 {
					assert.Equal(t, want.Redirect.StatusCode, rd.StatusCode)
				}
				if want.UpstreamPath != "" {
					loc, err := url.Parse(rd.Location)
					require.NoError(t, err)
					assert.Equal(t, want.UpstreamPath, loc.Path, "redirect path in %s", rd.Location)
				}
			case want.DirectResponse != nil:
				dr := res.Action.DirectResponse
				require.NotNil(t, dr, "want a direct response, got %+v", res.Action)
				assert.Equal(t, want.DirectResponse.Status, dr.Status)
			default:
				t.Fatalf("request %d expects no action", i)
			}
		})
	}
}
