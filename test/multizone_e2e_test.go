package test

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/meshgate/meshgate/certs"
)

// mzWorld is a global control plane and two universal zones, each its own `meshgate run`
// process on loopback, connected as an operator connects them (README "Multi-zone").
type mzWorld struct {
	t       *testing.T
	bin     string
	dir     string
	global  *binaryCP
	zones   map[string]*binaryCP
	globalF []string // global's flags, to start it again on the same data dir
}

func startMultiZone(t *testing.T, zones ...string) *mzWorld {
	t.Helper()
	w := &mzWorld{t: t, bin: buildBinary(t), dir: t.TempDir(), zones: map[string]*binaryCP{}}
	// A fixed port, so that global can be restarted where the zones look for it.
	w.globalF = []string{"--mode", "global", "--kds-address", fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	w.global = launchBinaryCPIn(t, w.bin, filepath.Join(w.dir, "global"), w.globalF...)
	require.NotEmpty(t, w.global.kds, "global logged no KDS address")
	ca := filepath.Join(w.dir, "global-ca.pem")
	require.NoError(t, os.WriteFile(ca, []byte(w.global.cli(t, "ca", "control-plane")), 0o600))
	for _, z := range zones {
		token := filepath.Join(w.dir, z+".token")
		require.NoError(t, os.WriteFile(token, []byte(strings.TrimSpace(w.global.cli(t, "token", "zone", "--zone", z))), 0o600))
		w.zones[z] = launchBinaryCPIn(t, w.bin, filepath.Join(w.dir, z), "--mode", "zone", "--zone", z,
			"--global-address", "grpcs://"+w.global.kds, "--zone-token-file", token, "--global-ca-file", ca)
	}
	return w
}

// apply runs `meshgate apply -f` with a YAML document against cp and returns its error.
func (w *mzWorld) apply(cp *binaryCP, yaml string) (string, error) {
	w.t.Helper()
	f := filepath.Join(w.t.TempDir(), "r.yaml")
	require.NoError(w.t, os.WriteFile(f, []byte(yaml), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cp.bin, "apply", "-f", f)
	cmd.Env = cp.environ
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// eventuallyGet is one API GET against cp, retried until want returns true or 10 s pass.
func eventuallyGet(t *testing.T, cp *binaryCP, path string, want func(code int, body string) bool) string {
	t.Helper()
	var code int
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + cp.api + path)
		if err == nil {
			raw, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			code, body = resp.StatusCode, string(raw)
			if want(code, body) {
				return body
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: never as wanted; last %d %s", path, code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const mzGatewayResources = `type: MeshGateway
mesh: default
name: edge-gateway
selectors:
  - match:
      kuma.io/service: edge-gateway
conf:
  listeners:
    - port: 8080
      protocol: HTTP
      hostname: foo.example.com
      tags:
        port: http/8080
---
type: MeshGatewayRoute
mesh: default
name: api-route
selectors:
  - match:
      kuma.io/service: edge-gateway
      port: http/8080
conf:
  http:
    rules:
      - matches:
          - path:
              match: PREFIX
              value: /api
        backends:
          - destination:
              kuma.io/service: api
`

const mzGatewayDataplane = `type: Dataplane
mesh: default
name: gateway-1
networking:
  address: 127.0.0.1
  gateway:
    type: BUILTIN
    tags:
      kuma.io/service: edge-gateway
`

// TestMultiZoneSync: the seed's gateway and routes created on global reach a builtin gateway in
// zone 1; the zone's Dataplane appears on global labelled with its zone; a route created on a
// zone is refused with the "create it on global" error; a zone resource on global too.
func TestMultiZoneSync(t *testing.T) {
	w := startMultiZone(t, "zone-1", "zone-2")
	out, err := w.apply(w.global, mzGatewayResources)
	require.NoError(t, err, out)
	z1 := w.zones["zone-1"]
	out, err = w.apply(z1, mzGatewayDataplane)
	require.NoError(t, err, out)

	eventuallyGet(t, z1, "/meshes/default/meshgatewayroutes/api-route", func(code int, _ string) bool { return code == 200 })
	eventuallyGet(t, w.global, "/meshes/default/dataplanes/zone-1.gateway-1", func(code int, body string) bool {
		return code == 200 && strings.Contains(body, `"kuma.io/zone":"zone-1"`)
	})

	listing := w.global.cli(t, "get", "dataplanes", "--mesh", "default")
	require.Regexp(t, `MESH\s+NAME\s+ZONE\s+AGE`, listing)
	require.Regexp(t, `default\s+zone-1\.gateway-1\s+zone-1\s`, listing)
	zones := eventuallyGet(t, w.global, "/zones", func(code int, body string) bool {
		return code == 200 && strings.Contains(body, `"zone-1"`) && strings.Contains(body, `"zone-2"`)
	})
	require.Contains(t, zones, `"connected":true`)

	out, err = w.apply(z1, strings.Replace(mzGatewayResources[strings.Index(mzGatewayResources, "type: MeshGatewayRoute"):], "api-route", "zone-route", 1))
	require.Error(t, err)
	require.Contains(t, out, "create, change and delete it on the global control plane")
	out, err = w.apply(w.global, mzGatewayDataplane)
	require.Error(t, err)
	require.Contains(t, out, "belongs to a zone")

	// Global lists the zone's dataplane but serves it nothing: its zone does.
	for _, view := range []string{"xds", "inspect"} {
		eventuallyGet(t, w.global, "/meshes/default/dataplanes/zone-1.gateway-1/"+view, func(code int, body string) bool {
			return code == http.StatusConflict && strings.Contains(body, "served by zone zone-1")
		})
	}
	xdsCAs.Store(w.global.xds, []byte(w.global.cli(t, "ca", "control-plane")))
	t.Cleanup(func() { xdsCAs.Delete(w.global.xds) })
	st := firstResponseStatus(t, dialADS(t, w.global.xds), "default.zone-1.gateway-1", "any")
	require.Equal(t, codes.FailedPrecondition, st.Code(), st.Message())
	require.Contains(t, st.Message(), "connect the dataplane to its zone's control plane")
}

// restartGlobal stops global and starts it again on the same data dir and KDS address.
func (w *mzWorld) restartGlobal() {
	w.t.Helper()
	w.global.stop()
	w.global = launchBinaryCPIn(w.t, w.bin, filepath.Join(w.dir, "global"), w.globalF...)
}

// gatewayEnvoy connects to a zone's xDS as its gateway Dataplane, with a token the zone
// issued, and returns it started.
func (w *mzWorld) gatewayEnvoy(zone *binaryCP, name string) *miniEnvoy {
	w.t.Helper()
	xdsCAs.Store(zone.xds, []byte(zone.cli(w.t, "ca", "control-plane")))
	w.t.Cleanup(func() { xdsCAs.Delete(zone.xds) })
	token := strings.TrimSpace(zone.cli(w.t, "token", "dataplane", "--mesh", "default", "--name", name))
	e := newMiniEnvoy(w.t, newSotW(w.t, dialADS(w.t, zone.xds), "default."+name, token))
	e.start()
	return e
}

// routePaths are the path prefixes of a gateway's routes.
func routePaths(e *miniEnvoy) map[string]bool {
	out := map[string]bool{}
	for _, rc := range e.routes {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				out[r.GetMatch().GetPrefix()+r.GetMatch().GetPath()] = true
			}
		}
	}
	return out
}

// TestMultiZoneGatewayOverADS: the gateway in zone 1 gets global's routes over ADS, a route
// changed on global reaches it, and with global down the zone keeps serving; a dataplane
// created in the zone meanwhile reaches global once it is back.
func TestMultiZoneGatewayOverADS(t *testing.T) {
	w := startMultiZone(t, "zone-1")
	z1 := w.zones["zone-1"]
	out, err := w.apply(w.global, mzGatewayResources)
	require.NoError(t, err, out)
	eventuallyGet(t, z1, "/meshes/default/meshgatewayroutes/api-route", func(code int, _ string) bool { return code == 200 })
	out, err = w.apply(z1, mzGatewayDataplane)
	require.NoError(t, err, out)

	e := w.gatewayEnvoy(z1, "gateway-1")
	require.True(t, routePaths(e)["/api"], "routes: %v", routePaths(e))

	// A route added on global reaches the gateway in the zone.
	start := time.Now()
	out, err = w.apply(w.global, strings.ReplaceAll(mzGatewayResources[strings.Index(mzGatewayResources, "type: MeshGatewayRoute"):], "api", "v2"))
	require.NoError(t, err, out)
	for !routePaths(e)["/v2"] {
		require.Less(t, time.Since(start), 10*time.Second, "the route made on global never reached zone 1's gateway")
		e.drain(200 * time.Millisecond)
	}
	t.Logf("a route made on global reached the gateway in zone 1 in %s", time.Since(start))

	// Global down: the zone keeps serving and accepts a new dataplane.
	w.global.stop()
	out, err = w.apply(z1, strings.ReplaceAll(mzGatewayDataplane, "gateway-1", "gateway-2"))
	require.NoError(t, err, out)
	e2 := w.gatewayEnvoy(z1, "gateway-2")
	require.True(t, routePaths(e2)["/api"] && routePaths(e2)["/v2"], "zone 1 serves its last synced routes without global")

	// Global back: what the zone did meanwhile is synced up.
	w.restartGlobal()
	eventuallyGet(t, w.global, "/meshes/default/dataplanes/zone-1.gateway-2", func(code int, _ string) bool { return code == 200 })
}

// TestMultiZoneIdentities: with an mTLS mesh created on global, a gateway in zone 1 and one in
// zone 2 each get an identity from their zone's own intermediate, and both chain to the one
// root global serves as the mesh's bundle.
func TestMultiZoneIdentities(t *testing.T) {
	w := startMultiZone(t, "zone-1", "zone-2")
	mesh := `type: Mesh
name: shop
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
---
`
	out, err := w.apply(w.global, mesh+strings.ReplaceAll(mzGatewayResources, "mesh: default", "mesh: shop"))
	require.NoError(t, err, out)
	roots := func() *x509.CertPool {
		body := eventuallyGet(t, w.global, "/meshes/shop/bundle", func(code int, _ string) bool { return code == 200 })
		bundle, err := x509bundle.Parse(spiffeid.RequireTrustDomainFromString("shop"), []byte(body))
		if err != nil { // the JWKS form
			bundle2, err2 := spiffebundle.Parse(spiffeid.RequireTrustDomainFromString("shop"), []byte(body))
			require.NoError(t, err2, "bundle: %s", body)
			bundle = bundle2.X509Bundle()
		}
		pool := x509.NewCertPool()
		for _, c := range bundle.X509Authorities() {
			pool.AddCert(c)
		}
		return pool
	}()
	var intermediates []*x509.Certificate
	for _, z := range []string{"zone-1", "zone-2"} {
		zone := w.zones[z]
		eventuallyGet(t, zone, "/meshes/shop/meshgateways/edge-gateway", func(code int, _ string) bool { return code == 200 })
		out, err := w.apply(zone, strings.ReplaceAll(mzGatewayDataplane, "mesh: default", "mesh: shop"))
		require.NoError(t, err, out)
		xdsCAs.Store(zone.xds, []byte(zone.cli(t, "ca", "control-plane")))
		token := strings.TrimSpace(zone.cli(t, "token", "dataplane", "--mesh", "shop", "--name", "gateway-1"))
		e := newMiniEnvoy(t, newSotW(t, dialADS(t, zone.xds), "shop.gateway-1", token))
		e.start()
		id := e.secrets["identity_cert:secret:shop"]
		require.NotNil(t, id, "%s: no identity secret", z)
		chain, err := certs.ParseCertificates([]byte(id.GetTlsCertificate().GetCertificateChain().GetInlineString()))
		require.NoError(t, err)
		require.Len(t, chain, 2, "%s: leaf and the zone's intermediate", z)
		inter := x509.NewCertPool()
		inter.AddCert(chain[1])
		_, err = chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		require.NoError(t, err, "%s: the leaf must chain to global's root through the zone's intermediate", z)
		require.Contains(t, chain[1].Subject.OrganizationalUnit, "Zone "+z)
		intermediates = append(intermediates, chain[1])
	}
	require.False(t, intermediates[0].Equal(intermediates[1]), "each zone has its own intermediate")

	// The root's private key is in global's store and in no zone's.
	body := eventuallyGet(t, w.global, "/meshes/shop/bundle", func(code int, _ string) bool { return code == 200 })
	bundle, err := spiffebundle.Parse(spiffeid.RequireTrustDomainFromString("shop"), []byte(body))
	require.NoError(t, err)
	root := bundle.X509Authorities()[0]
	require.NoError(t, intermediates[0].CheckSignatureFrom(root))
	require.Equal(t, 1, privateKeysMatching(t, filepath.Join(w.dir, "global"), root.PublicKey), "global holds the root key")
	for _, z := range []string{"zone-1", "zone-2"} {
		require.Zero(t, privateKeysMatching(t, filepath.Join(w.dir, z), root.PublicKey), "%s must not hold the root key", z)
	}
}

// mzMTLSDefault turns mTLS on in mesh default: cross-zone traffic needs it, since zone
// ingresses route by the SNI of the client's mTLS session.
const mzMTLSDefault = `type: Mesh
name: default
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
---
`

// TestMultiZoneServiceInAnotherZone: service api runs only in zone 2, behind zone 2's
// ZoneIngress; zone 2 advertises it on the ingress, the ingress reaches zone 1 through global,
// and zone 1's gateway sends /api to zone 2's ingress with the SNI the ingress routes by. The
// ingress's own Envoy, connected to zone 2 with a ZoneIngress token, gets a TLS-inspecting
// listener whose chain for that SNI passes the connection through to api's local instance.
func TestMultiZoneServiceInAnotherZone(t *testing.T) {
	w := startMultiZone(t, "zone-1", "zone-2")
	out, err := w.apply(w.global, mzMTLSDefault+mzGatewayResources)
	require.NoError(t, err, out)
	z1, z2 := w.zones["zone-1"], w.zones["zone-2"]
	eventuallyGet(t, z1, "/meshes/default/meshgatewayroutes/api-route", func(code int, _ string) bool { return code == 200 })
	eventuallyGet(t, z2, "/meshes/default", func(code int, body string) bool { return code == 200 && strings.Contains(body, "ca-1") })
	out, err = w.apply(z2, `type: Dataplane
mesh: default
name: api-1
networking:
  address: 127.0.0.1
  inbound:
    - port: 9002
      tags:
        kuma.io/service: api
        kuma.io/protocol: http
---
type: ZoneIngress
name: ingress
networking:
  address: 127.0.0.1
  port: 10001
  advertisedAddress: 203.0.113.2
  advertisedPort: 10001
`)
	require.NoError(t, err, out)
	// Zone 2 fills in what its ingress offers; global and then zone 1 get it.
	eventuallyGet(t, z1, "/zoneingresses/zone-2.ingress", func(code int, body string) bool {
		return code == 200 && strings.Contains(body, `"kuma.io/service":"api"`)
	})

	out, err = w.apply(z1, mzGatewayDataplane)
	require.NoError(t, err, out)
	e := w.gatewayEnvoy(z1, "gateway-1")
	var endpoints []string
	for _, cla := range e.endpoints {
		if !strings.Contains(cla.GetClusterName(), "api") {
			continue
		}
		for _, loc := range cla.GetEndpoints() {
			for _, lb := range loc.GetLbEndpoints() {
				a := lb.GetEndpoint().GetAddress().GetSocketAddress()
				endpoints = append(endpoints, fmt.Sprintf("%s:%d@%s", a.GetAddress(), a.GetPortValue(), loc.GetLocality().GetZone()))
			}
		}
	}
	require.Equal(t, []string{"203.0.113.2:10001@zone-2"}, endpoints, "zone 1's gateway reaches api through zone 2's ingress")
	var sni string
	for name, c := range e.clusters {
		if strings.Contains(name, "api") {
			sni = upstreamSNI(t, c)
		}
	}
	require.Equal(t, "api{mesh=default}", sni, "the gateway names the service to the ingress by SNI")

	ingress := w.ingressEnvoy(z2, "ingress")
	require.Len(t, ingress.listeners, 1, "the ingress's one listener")
	for _, l := range ingress.listeners {
		a := l.GetAddress().GetSocketAddress()
		require.Equal(t, "127.0.0.1:10001", fmt.Sprintf("%s:%d", a.GetAddress(), a.GetPortValue()))
		require.Len(t, l.GetListenerFilters(), 1)
		require.Equal(t, "envoy.filters.listener.tls_inspector", l.GetListenerFilters()[0].GetName())
		require.Len(t, l.GetFilterChains(), 1)
		require.Equal(t, []string{"api{mesh=default}"}, l.GetFilterChains()[0].GetFilterChainMatch().GetServerNames())
		require.Nil(t, l.GetFilterChains()[0].GetTransportSocket(), "the ingress passes TLS through")
	}
	cla := ingress.endpoints["default:api"]
	require.NotNil(t, cla, "the ingress's cluster of api has endpoints: %v", ingress.endpoints)
	a := cla.GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	require.Equal(t, "127.0.0.1:9002", fmt.Sprintf("%s:%d", a.GetAddress(), a.GetPortValue()), "api's instance in zone 2")

	// Another ingress's token, or a dataplane token, does not admit it.
	token := strings.TrimSpace(z2.cli(t, "token", "zone-ingress", "--name", "other"))
	st := firstResponseStatus(t, dialADS(t, z2.xds), ".ingress", token)
	require.Equal(t, codes.PermissionDenied, st.Code(), st.Message())
	st = firstResponseStatus(t, dialADS(t, z2.xds), ".ingress", strings.TrimSpace(z2.cli(t, "token", "dataplane", "--mesh", "default", "--name", "api-1")))
	require.Equal(t, codes.Unauthenticated, st.Code(), st.Message())

	// An ingress's stream ends when its token does.
	short := strings.TrimSpace(z2.cli(t, "token", "zone-ingress", "--name", "ingress", "--valid-for", "2s"))
	s := openADS(t, dialADS(t, z2.xds), ".ingress", short)
	st = s.waitEnd(6 * time.Second)
	require.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	require.Contains(t, st.Message(), "ZoneIngress token expired")
}

// ingressEnvoy connects to a zone's xDS as its ZoneIngress, with a token the zone issued.
func (w *mzWorld) ingressEnvoy(zone *binaryCP, name string) *miniEnvoy {
	w.t.Helper()
	xdsCAs.Store(zone.xds, []byte(zone.cli(w.t, "ca", "control-plane")))
	w.t.Cleanup(func() { xdsCAs.Delete(zone.xds) })
	token := strings.TrimSpace(zone.cli(w.t, "token", "zone-ingress", "--name", name))
	e := newMiniEnvoy(w.t, newSotW(w.t, dialADS(w.t, zone.xds), "."+name, token))
	e.start()
	return e
}

// upstreamSNI is the SNI of a cluster's TLS transport socket.
func upstreamSNI(t *testing.T, c *clusterv3.Cluster) string {
	t.Helper()
	ts := c.GetTransportSocket()
	if ts == nil {
		return ""
	}
	var tlsCtx tlsv3.UpstreamTlsContext
	require.NoError(t, ts.GetTypedConfig().UnmarshalTo(&tlsCtx))
	return tlsCtx.GetSni()
}
