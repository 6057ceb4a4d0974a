package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/controlplane"
)

// consoleCP is a control plane serving examples/gateway and examples/crossmesh (applied through
// the API, so the API may change them), with two gateways connected over ADS: the edge gateway
// ACKs everything, payments' gateway ACKs clusters and NACKs its listeners.
func consoleCP(t *testing.T) *runningCP {
	t.Helper()
	cp := startCP(t, t.TempDir())
	body := append(exampleYAML(t), []byte("\n---\n")...)
	body = append(body, examplesIn(t, "../examples/crossmesh")...)
	code, out := cp.call(t, http.MethodPost, "/apply", "application/yaml", body)
	require.Equal(t, http.StatusOK, code, string(out))

	conn := dialADS(t, cp.addrs.XDS)
	edge := newMiniEnvoy(t, newSotW(t, conn, "default.gateway-instance-1", tokenFor(t, cp, "default", "gateway-instance-1")))
	edge.start()
	pay := newSotW(t, conn, "payments.payments-gateway-1", tokenFor(t, cp, "payments", "payments-gateway-1"))
	pay.subscribe(resourcev3.ClusterType)
	pay.ack(pay.next(resourcev3.ClusterType, 10*time.Second))
	pay.subscribe(resourcev3.ListenerType)
	pay.nack(pay.next(resourcev3.ListenerType, 10*time.Second), "")
	return cp
}

// examplesIn is every YAML file of dir as one multi-document body.
func examplesIn(t *testing.T, dir string) []byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, dir)
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		all = append(append(all, b...), []byte("\n---\n")...)
	}
	return all
}

// inspectDataplanes reads GET /inspect/dataplanes as the CLI and the console do.
func inspectDataplanes(t *testing.T, cp *runningCP, mesh string) map[string]client.DataplaneSummary {
	t.Helper()
	c, err := client.New("http://"+cp.addrs.API, "")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := c.InspectDataplanes(ctx, mesh)
	require.NoError(t, err)
	out := map[string]client.DataplaneSummary{}
	for _, d := range list {
		out[d.Mesh+"/"+d.Name] = d
	}
	return out
}

// The one endpoint the console and `meshgate inspect dataplanes` read: every dataplane with its
// type, whether it is online and where, its last ACK, the NACK text Envoy sent and its
// certificate's expiry; the CLI prints the same as a table.
func TestInspectDataplanes(t *testing.T) {
	cp := consoleCP(t)
	var all map[string]client.DataplaneSummary
	require.Eventually(t, func() bool {
		all = inspectDataplanes(t, cp, "")
		return all["payments/payments-gateway-1"].NACK != "" && !all["default/gateway-instance-1"].LastACK.IsZero()
	}, 10*time.Second, 50*time.Millisecond, "the NACK and the ACKs never showed: %+v", all)
	require.Len(t, all, 7, "every dataplane of both examples: %v", all)

	edge := all["default/gateway-instance-1"]
	assert.Equal(t, client.DataplaneBuiltinGateway, edge.Type)
	assert.True(t, edge.Online)
	assert.NotEmpty(t, edge.Replica, "a connected dataplane names the replica holding its stream")
	assert.WithinDuration(t, time.Now(), edge.LastACK, time.Minute)
	assert.Empty(t, edge.NACK)
	assert.True(t, edge.CertExpiry.IsZero(), "mesh default has no mTLS, hence no certificate")

	pay := all["payments/payments-gateway-1"]
	assert.True(t, pay.Online)
	assert.True(t, pay.Rejected)
	assert.Equal(t, "rejected by test", pay.NACK)
	assert.True(t, pay.CertExpiry.After(time.Now().Add(time.Hour)), "payments has mTLS: the gateway's certificate expiry is shown, got %v", pay.CertExpiry)

	api := all["default/api-1"]
	assert.Equal(t, client.DataplaneSidecar, api.Type)
	assert.False(t, api.Online)
	assert.Empty(t, api.Replica)

	shop := inspectDataplanes(t, cp, "shop")
	assert.Len(t, shop, 2, "?mesh=shop lists only shop's: %v", shop)
	code, out := cp.call(t, http.MethodGet, client.InspectDataplanesPath+"?mesh=nope", "", nil)
	assert.Equal(t, http.StatusNotFound, code, string(out))
	code, _ = cp.call(t, http.MethodPost, client.InspectDataplanesPath, "application/json", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, code)

	bin := buildBinary(t)
	cli := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append([]string{"inspect", "dataplanes", "--api-address", "http://" + cp.addrs.API}, args...)...)
		b, err := cmd.Output()
		require.NoError(t, err, "meshgate inspect dataplanes %v: %s", args, stderrOf(err))
		return string(b)
	}
	table := cli("--all-meshes")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	require.Len(t, lines, 8, table)
	assert.Regexp(t, `^MESH\s+NAME\s+TYPE\s+STATUS\s+REPLICA\s+LAST ACK\s+NACK\s+CERT EXPIRES`, lines[0])
	assert.Regexp(t, `default\s+gateway-instance-1\s+builtin gateway\s+online\s+\S+\s+\d+s ago\s+-\s+-`, table)
	assert.Regexp(t, `payments\s+payments-gateway-1\s+builtin gateway\s+online\s+.*REJECTED: rejected by test\s+in \d+h`, table)
	assert.Regexp(t, `shop\s+cart-1\s+sidecar\s+offline\s+-\s+-\s+-\s+-`, table)
	def := cli()
	assert.Len(t, strings.Split(strings.TrimSpace(def), "\n"), 4, "without flags: mesh default only\n%s", def)
	var fromJSON []client.DataplaneSummary
	require.NoError(t, json.Unmarshal([]byte(cli("--mesh", "payments", "-o", "json")), &fromJSON))
	require.Len(t, fromJSON, 2)
	assert.Equal(t, "payments-gateway-1", fromJSON[1].Name)
}

// The inspect views need the admin token like the rest of the API; the console's files hold
// no state and load without it (the page then asks for the token); everything is read-only.
func TestInspectViewsNeedTheAdminToken(t *testing.T) {
	const token = "console-test-admin-token"
	cp := startCP(t, t.TempDir(), func(c *controlplane.Config) { c.AdminToken = token })
	get := func(method, path, bearer string) (int, http.Header, string) {
		req, err := http.NewRequest(method, "http://"+cp.addrs.API+path, nil)
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header, string(b)
	}
	for _, p := range []string{client.InspectDataplanesPath, "/inspect/meshes", "/inspect/gateways", "/inspect/crossmesh"} {
		code, _, body := get(http.MethodGet, p, "")
		assert.Equal(t, http.StatusUnauthorized, code, "%s without the token: %s", p, body)
		code, _, body = get(http.MethodGet, p, "wrong")
		assert.Equal(t, http.StatusUnauthorized, code, "%s with a wrong token: %s", p, body)
		code, _, body = get(http.MethodGet, p, token)
		assert.Equal(t, http.StatusOK, code, "%s with the token: %s", p, body)
		code, _, _ = get(http.MethodDelete, p, token)
		assert.Equal(t, http.StatusMethodNotAllowed, code, "%s is read-only", p)
	}
	code, hdr, body := get(http.MethodGet, "/gui/", "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `<form id="token-form"`)
	assert.Contains(t, hdr.Get("Content-Security-Policy"), "default-src 'self'", "nothing is loaded from elsewhere")
	code, _, body = get(http.MethodGet, "/gui/app.js", "")
	require.Equal(t, http.StatusOK, code)
	assert.NotContains(t, body, "https://", "the script fetches nothing from the internet")
	code, _, _ = get(http.MethodGet, "/gui", "")
	assert.Equal(t, http.StatusOK, code, "/gui redirects to /gui/")
	code, _, _ = get(http.MethodPost, "/gui/", token)
	assert.Equal(t, http.StatusMethodNotAllowed, code)
}

// browserTimeout bounds every single browser action; the whole test is bounded by its context.
const browserTimeout = 15 * time.Second

// chromiumPath finds the Debian package's browser; CI installs it (.ci/setup.sh).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if os.Getenv("MESHGATE_SKIP_BROWSER") == "1" {
		t.Skip("MESHGATE_SKIP_BROWSER=1: the browser test of the console is skipped")
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not on PATH: install it (`apt-get install -y chromium`, as .ci/setup.sh does), " +
		"or set MESHGATE_SKIP_BROWSER=1 to skip the console's browser test")
	return ""
}

// step runs one browser action with its own deadline and returns its value, naming the step
// when it fails.
func step[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, browserTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err, "browser: %s", what)
	return v
}

// void drops an action's value, so that it can be one of chromedp.Steps.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, tg)
		return chromedp.Void{}, err
	}
}

// show moves the console to a view as its links do: it is one page, and a view is the
// fragment (chromedp.Navigate would wait for a load event that a fragment change never fires).
func show(view string) chromedp.Action[chromedp.Void] {
	return void(chromedp.Evaluate[any](`location.hash = "#/` + view + `"`))
}

// The console in a real headless Chromium: the gateway page shows the listener and the routes
// in the order the gateway applies them, the explain form answers with the backend, the
// cross-mesh map draws both meshes and the exposed name, a route applied through the API shows
// up without a reload, and the layout fits a phone. It saves the README's screenshot.
func TestConsoleInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	cp := consoleCP(t)
	base := "http://" + cp.addrs.API + "/gui/"

	// Everything the browser does fits in two minutes (the browser lives as long as this
	// context); each step has browserTimeout besides.
	all, cancelAll := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelAll()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(all, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	require.NoError(t, chromedp.Do(ctx), "starting %s", exe)

	const gw = `article[data-gateway="default/edge-gateway"]`
	step(t, ctx, "open the gateways page", chromedp.Steps(
		chromedp.Navigate(base+"#/gateways"),
		chromedp.WaitVisible(chromedp.CSS(gw+` li[data-route]`))))
	step(t, ctx, "mark the page", chromedp.Evaluate[any](`window.__noReload = "still here"`))
	listeners := step(t, ctx, "read the listeners", chromedp.Text(chromedp.CSS(gw+` table`)))
	routes := step(t, ctx, "read the routes", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('`+gw+` li[data-route]')).map(e => e.dataset.route)`))
	assert.Contains(t, listeners, "foo.example.com:8080")
	require.Contains(t, routes, "api-route")
	require.Contains(t, routes, "frontend-route")
	assert.Less(t, indexOf(routes, "api-route"), indexOf(routes, "frontend-route"), "api-route (/api) must come before frontend-route (/): %v", routes)
	shot := step(t, ctx, "screenshot of the gateways page", chromedp.FullScreenshot(100))

	// A route applied through the API shows on the open page without a reload.
	adminRoute := `
type: MeshGatewayRoute
mesh: default
name: admin-route
selectors: [{match: {kuma.io/service: edge-gateway, port: http/8080}}]
conf: {http: {rules: [{matches: [{path: {match: EXACT, value: /admin}}], backends: [{destination: {kuma.io/service: api}, weight: 3}, {destination: {kuma.io/service: frontend}, weight: 1}]}]}}
`
	code, out := cp.call(t, http.MethodPost, "/apply", "application/yaml", []byte(adminRoute))
	require.Equal(t, http.StatusOK, code, string(out))
	const admin = gw + ` li[data-route="admin-route"]`
	step(t, ctx, "see admin-route appear without a reload", chromedp.WaitVisible(chromedp.CSS(admin)))
	adminText := step(t, ctx, "read admin-route", chromedp.Text(chromedp.CSS(admin)))
	still := step(t, ctx, "check the mark", chromedp.Evaluate[string](`window.__noReload`))
	assert.Equal(t, "still here", still, "the page was reloaded")
	// The edge gateway (a test client that stopped reading) never answers the new routes: the
	// console says a configuration is being applied.
	step(t, ctx, "see the rebuild in progress", chromedp.Poll[bool](`document.getElementById("status").textContent.startsWith("Rebuilding")`))
	assert.Contains(t, adminText, "api weight 3")
	assert.Contains(t, adminText, "frontend weight 1")

	// Explain /api/foo on the edge gateway through the form.
	step(t, ctx, "fill in the explain form", chromedp.Steps(
		show("explain"),
		chromedp.WaitVisible(chromedp.ID("explain-form")),
		chromedp.SetValue(chromedp.ID("ex-dp"), "default/gateway-instance-1"),
		chromedp.SetValue(chromedp.ID("ex-port"), "8080"),
		chromedp.SetValue(chromedp.ID("ex-host"), "foo.example.com"),
		chromedp.SetValue(chromedp.ID("ex-path"), "/api/foo"),
		chromedp.Click(chromedp.ID("ex-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#explain-result .explain-backend`))))
	backend := step(t, ctx, "read the backend", chromedp.Text(chromedp.CSS(`#explain-result .explain-backend`)))
	answer := step(t, ctx, "read the answer", chromedp.Text(chromedp.CSS(`#explain-result table`)))
	assert.Equal(t, "api", backend)
	assert.Contains(t, answer, "api-route")

	// The same form across meshes: shop's checkout calling payments' cross-mesh listener, with
	// the SNI and ALPN its sidecar sends, is accepted by its certificate and a TrafficPermission.
	step(t, ctx, "explain a cross-mesh call", chromedp.Steps(
		chromedp.SetValue(chromedp.ID("ex-dp"), "payments/payments-gateway-1"),
		chromedp.SetValue(chromedp.ID("ex-port"), "8080"),
		chromedp.SetValue(chromedp.ID("ex-host"), "payments.mesh"),
		chromedp.SetValue(chromedp.ID("ex-path"), "/charge"),
		chromedp.SetValue(chromedp.ID("ex-sni"), "payments-gateway{mesh=payments,port=8080}"),
		chromedp.SetValue(chromedp.ID("ex-alpn"), "kuma"),
		chromedp.SetValue(chromedp.ID("ex-tls"), "true"),
		chromedp.SetValue(chromedp.ID("ex-source"), "spiffe://shop/checkout"),
		chromedp.Click(chromedp.ID("ex-submit")),
		void(chromedp.Poll[bool](`(document.querySelector("#explain-result .explain-backend") || {}).textContent === "payments-api"`))))
	answer = step(t, ctx, "read the cross-mesh answer", chromedp.Text(chromedp.CSS(`#explain-result table`)))
	assert.Contains(t, answer, "spiffe://shop/checkout: accepted")
	assert.Contains(t, answer, "allowed by shop-checkout-to-gateway")

	// --follow across meshes: checkout's outbound, the payments gateway, the API's inbound.
	picked := step(t, ctx, "fill in a request to follow", chromedp.Evaluate[string](`(() => {
		const set = (id, v) => { document.getElementById(id).value = v; };
		set("ex-dp", "shop/checkout-1"); set("ex-port", "8080"); set("ex-host", "payments.mesh"); set("ex-path", "/");
		set("ex-sni", ""); set("ex-alpn", ""); set("ex-tls", ""); set("ex-source", "");
		document.getElementById("ex-follow").checked = true;
		return document.getElementById("ex-dp").value;
	})()`))
	require.Equal(t, "shop/checkout-1", picked, "the dataplane list offers checkout-1")
	step(t, ctx, "follow a request across meshes", chromedp.Steps(
		chromedp.Click(chromedp.ID("ex-submit")),
		void(chromedp.Poll[bool](`document.querySelectorAll("#explain-result h2.hop").length === 3`))))
	hops := step(t, ctx, "read the hops", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('#explain-result h2.hop')).map(e => e.textContent)`))
	require.Len(t, hops, 3)
	assert.Contains(t, hops[0], "shop/checkout-1")
	assert.Contains(t, hops[1], "payments/payments-gateway-1")
	assert.Contains(t, hops[2], "payments/payments-api-1")
	followed := step(t, ctx, "read the followed answer", chromedp.Text(chromedp.ID("explain-result")))
	assert.Contains(t, followed, "allowed by shop-checkout-to-gateway", "the gateway hop's RBAC decision")

	// The cross-mesh map: both meshes as boxes, payments' exit labelled with the dialled name.
	step(t, ctx, "open the cross-mesh map", chromedp.Steps(show("crossmesh"),
		chromedp.WaitVisible(chromedp.CSS(`svg.map g[data-mesh="shop"]`))))
	meshes := step(t, ctx, "read the meshes", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('svg.map g[data-mesh]')).map(g => g.dataset.mesh)`))
	exits := step(t, ctx, "read the exits", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('svg.map .exposed-name')).map(e => e.textContent)`))
	mapText := step(t, ctx, "read the map", chromedp.Evaluate[string](`document.querySelector('svg.map').textContent`))
	assert.Subset(t, meshes, []string{"payments", "shop"})
	assert.Equal(t, []string{"payments.mesh:8080"}, exits)
	assert.Contains(t, mapText, "shop dials payments.mesh", "the arrow from shop is labelled")

	// A dataplane's page: its NACK with Envoy's text, its xDS exchange and its configuration,
	// private keys redacted.
	step(t, ctx, "open payments-gateway-1", chromedp.Steps(show("dataplane/payments/payments-gateway-1"),
		chromedp.WaitVisible(chromedp.CSS(`#main details`))))
	page := step(t, ctx, "read the dataplane page", chromedp.Evaluate[string](`document.getElementById("main").textContent`))
	assert.Contains(t, page, "Dataplane payments/payments-gateway-1")
	assert.Contains(t, page, "rejected by test")
	assert.Contains(t, page, "Listener", "the xDS table names the types")
	assert.Regexp(t, `secrets \(\d+\)`, page)
	assert.Contains(t, page, "BEGIN CERTIFICATE", "the rendered secrets hold the certificate")
	assert.NotContains(t, page, "PRIVATE KEY", "private keys are redacted")

	// A phone-sized viewport: the overview fits without sideways scrolling of the page.
	step(t, ctx, "overview on a phone", chromedp.Steps(
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		show("overview"),
		chromedp.WaitVisible(chromedp.ID("h-overview"))))
	heading := step(t, ctx, "read the heading", chromedp.Text(chromedp.ID("h-overview")))
	overflow := step(t, ctx, "measure the page", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	assert.Equal(t, "Overview", heading)
	problems := step(t, ctx, "read the overview", chromedp.Text(chromedp.CSS(`#main`)))
	assert.Contains(t, problems, "NACK in force: rejected by test", "the overview lists the dataplane with a NACK")
	assert.False(t, overflow, "the page scrolls sideways at 390 px")

	require.NotEmpty(t, shot)
	require.NoError(t, os.WriteFile("../docs/console.png", shot, 0o644), "saving the README's screenshot")
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	panic(fmt.Sprintf("%q not in %v", s, list))
}
