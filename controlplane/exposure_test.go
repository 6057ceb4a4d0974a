package controlplane

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const strongToken = "3f9a1c7e5b2d8046af13c9e7b5d20486" // 32 hex characters, 16 different

func TestExposure(t *testing.T) {
	base := func() Config {
		c := DefaultConfig()
		return c
	}
	cases := []struct {
		name       string
		mutate     func(*Config)
		err        string
		apiTLS     bool
		metricsTok bool
		notice     string
	}{
		{name: "defaults: HTTPS API waits for a token", notice: "HTTPS API on :5682 not started"},
		{name: "loopback HTTPS API needs no token", mutate: func(c *Config) { c.APITLSAddress = "127.0.0.1:5682" }, apiTLS: true},
		{name: "HTTPS API off", mutate: func(c *Config) { c.APITLSAddress = "" }},
		{name: "strong token opens the HTTPS API", mutate: func(c *Config) { c.AdminToken = strongToken }, apiTLS: true},
		{name: "one-character token", mutate: func(c *Config) { c.AdminToken = "x" }, err: "--admin-token: too weak"},
		{name: "blank token", mutate: func(c *Config) { c.AdminToken = "                                  " }, err: "too weak"},
		{name: "long but repetitive token", mutate: func(c *Config) { c.AdminToken = "abababababababababababababababababab" }, err: "too weak"},
		{name: "weak token is fine on loopback only", mutate: func(c *Config) { c.AdminToken = "x"; c.APITLSAddress = "" }},
		{name: "plain API beyond loopback", mutate: func(c *Config) { c.APIAddress = ":5681"; c.AdminToken = strongToken }, err: "not loopback"},
		{name: "plain API on an interface", mutate: func(c *Config) { c.APIAddress = "10.0.0.1:5681" }, err: "--api-tls-address"},
		{name: "plain API on [::1]", mutate: func(c *Config) { c.APIAddress = "[::1]:5681"; c.APITLSAddress = "" }},
		{name: "plain API on localhost", mutate: func(c *Config) { c.APIAddress = "localhost:5681"; c.APITLSAddress = "" }},
		{name: "nonsense address", mutate: func(c *Config) { c.APIAddress = "nonsense" }, err: "--api-address"},
		{name: "metrics beyond loopback need a token", mutate: func(c *Config) { c.DiagAddress = ":5680"; c.APITLSAddress = "" }, err: "/metrics would be readable by anyone"},
		{name: "metrics beyond loopback with a token", mutate: func(c *Config) { c.DiagAddress = ":5680"; c.AdminToken = strongToken }, apiTLS: true, metricsTok: true},
		{name: "metrics beyond loopback, public on purpose", mutate: func(c *Config) { c.DiagAddress = ":5680"; c.PublicMetrics = true; c.APITLSAddress = "" }},
		{name: "metrics token must be strong", mutate: func(c *Config) { c.DiagAddress = ":5680"; c.AdminToken = "short"; c.APITLSAddress = "" }, err: "guards /metrics"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base()
			if c.mutate != nil {
				c.mutate(&cfg)
			}
			ex, notice, err := checkExposure(cfg)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.apiTLS, ex.apiTLS)
			assert.Equal(t, c.metricsTok, ex.metricsToken)
			if c.notice == "" {
				assert.Empty(t, notice)
			} else {
				assert.Contains(t, notice, c.notice)
			}
		})
	}
	_, err := New(context.Background(), Config{APIAddress: "0.0.0.0:0", DataDir: t.TempDir(), Logger: quietLogger()})
	require.ErrorContains(t, err, "not loopback")
}

// Beyond loopback /metrics needs the admin token; probes stay open.
func TestMetricsGuard(t *testing.T) {
	for _, guarded := range []bool{false, true} {
		cp := &ControlPlane{cfg: Config{AdminToken: strongToken}, registry: prometheus.NewRegistry(),
			ready: make(chan struct{}), exposure: exposure{metricsToken: guarded}}
		h := cp.diagHandler()
		get := func(path, auth string) int {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			h.ServeHTTP(rec, req)
			return rec.Code
		}
		want := http.StatusOK
		if guarded {
			want = http.StatusUnauthorized
		}
		assert.Equal(t, want, get("/metrics", ""), "guarded=%v", guarded)
		assert.Equal(t, http.StatusOK, get("/metrics", "bearer "+strongToken), "guarded=%v", guarded)
		assert.Equal(t, http.StatusOK, get("/healthz", ""), "guarded=%v", guarded)
	}
}
