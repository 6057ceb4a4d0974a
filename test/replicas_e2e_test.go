package test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

const (
	haClients = 200 // dataplanes (gateway replicas) connected over ADS
	haWrites  = 500 // writes through the surviving replicas while one is killed
	haWriters = 4   // writes in flight at a time
	haKillAt  = haWrites / 2
	haConns   = 10 // gRPC connections per replica the clients share (a replica admits 16 streams on one)
	haMeshes  = 3  // meshes with mTLS created on every replica at once
	haBound   = 20 * time.Second
	// haLeaseTTL is short so that the lease moves within the test's time.
	haLeaseTTL = 2 * time.Second
)

// TestReplicasFailover is issue 12's three-replica test. Three `meshgate run` processes share
// one PostgreSQL; 200 gateway dataplanes hold their configuration over ADS (TLS, tokens),
// spread over the three. 500 writes go through replicas 2 and 3, and replica 1, the lease
// holder, is killed with SIGKILL halfway through. Afterwards:
//   - every acknowledged write is present, as written, read through the other surviving replica;
//   - the killed replica's clients, which move to another replica asking with the versions they
//     hold (as Envoy does), get exactly those versions for the types no write touched (clusters,
//     listeners, endpoints), and for routes either what they held or what the writes made;
//   - the other clients never notice; all converge to what a fresh client gets on either replica;
//   - nothing is issued twice: one control-plane CA, one CA root per mesh (created by three
//     replicas at once), one VIP per service name, the same on every replica;
//   - a survivor takes the lease, and both count two replicas (the share of the re-issue budget).
//
// It prints the failover figures: time from the kill until every orphaned client is served
// again and until the lease is taken over, writes acknowledged, writes lost.
func TestReplicasFailover(t *testing.T) {
	storeURL := haDatabase(t)
	bin := buildBinary(t)
	rs := startHAReplicas(t, bin, storeURL, 3, "--lease-ttl", haLeaseTTL.String())
	haLogsOnFailure(t, rs)
	// Replica 1, the one killed, is the lease holder: the harder case, as VIPs for the services
	// written after the kill wait for another replica to take the lease.
	leader := haAwaitLeader(t, rs)
	rs[0], rs[leader] = rs[leader], rs[0]
	for i, r := range rs {
		r.name = fmt.Sprintf("replica-%d", i+1)
	}
	haAwaitMetrics(t, rs, 3)

	// One control-plane CA for all: each replica serves its own certificate, all from it.
	caPEM := haSameOnAll(t, rs, "/control-plane/ca")

	code, body := rs[0].mustCall(t, http.MethodPost, "/apply", "application/yaml", append(exampleYAML(t), haGatewaysYAML(haClients+1)...))
	require.Equal(t, http.StatusOK, code, string(body))
	tokens := haTokens(t, rs)
	haCreateMeshes(t, rs)
	caRoots := haMeshCAs(t, rs)

	// Clients connect as Envoy would from `meshgate bootstrap --cp-address` given every replica:
	// one endpoint per replica, each replica's own certificate accepted. Each client starts on
	// replica i%3 and fails over to one of the other two.
	bs := haBootstrapFor(t, bin, rs, "ha-gw-000")
	require.Equal(t, []string{rs[0].xds, rs[1].xds, rs[2].xds}, bs.endpoints, "the bootstrap's xDS endpoints")
	conns := make([][]*grpc.ClientConn, len(rs))
	for i := range rs {
		for range haConns {
			conns[i] = append(conns[i], haDial(t, bs.endpoints[i], bs.tls))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	t.Cleanup(func() { cancel(); running.Wait() })
	clients := make([]*haClient, haClients)
	for i := range clients {
		start := i % len(rs)
		next := (start + 1 + (i/len(rs))%2) % len(rs)
		clients[i] = newHAClient(haGatewayNode(i), tokens[i], []int{start, next, 3 - start - next})
		running.Add(1)
		go func() { defer running.Done(); clients[i].run(ctx, conns, i/len(rs)) }()
	}
	began := time.Now()
	for _, c := range clients {
		select {
		case <-c.served:
		case <-time.After(time.Until(began.Add(haBound))):
			t.Fatalf("client %s not served within %s", c, haBound)
		}
	}
	t.Logf("%d clients served in %s", haClients, time.Since(began).Round(time.Millisecond))

	// Versions are content hashes: gateway replicas on any control-plane replica hold the same.
	base := clients[0].versions()
	require.Len(t, base, len(haTypes))
	for _, c := range clients {
		require.Equal(t, base, c.versions(), "client %s on replica %d", c.node, c.replica()+1)
	}
	vips := haVIPs(t, rs, []string{"api.mesh", "frontend.mesh"})

	// Writes through replicas 2 and 3; replica 1 is killed when half of them have been sent.
	results := make([]haWriteResult, haWrites)
	jobs := make(chan int)
	var writers sync.WaitGroup
	for range haWriters {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range jobs {
				w := haWrite(i)
				r := rs[1+i%2]
				code, out, err := r.call(http.MethodPut, w.path, "application/json", w.body)
				results[i] = haWriteResult{code: code, err: err, body: string(out)}
			}
		}()
	}
	var orphans []*haClient
	for _, c := range clients {
		if c.order[0] == 0 {
			orphans = append(orphans, c)
		}
	}
	var killedAt time.Time
	type failover struct {
		last time.Duration
		err  error
	}
	servedAgain := make(chan failover, 1)
	takeover := make(chan failover, 1)
	for i := range haWrites {
		if i == haKillAt {
			killedAt = time.Now()
			rs[0].kill(t)
			// The orphans are served again by the survivors while the writes go on.
			go func() {
				last, err := haAwaitServedAgain(rs, orphans, killedAt)
				servedAgain <- failover{last, err}
			}()
			go func() {
				took, err := haAwaitTakeover(rs[1:], killedAt)
				takeover <- failover{took, err}
			}()
		}
		jobs <- i
	}
	close(jobs)
	written := make(chan struct{})
	go func() { writers.Wait(); close(written) }()
	select {
	case <-written:
	case <-time.After(60 * time.Second):
		t.Fatal("the writes did not finish within 60s")
	}
	writesDone := time.Since(killedAt)
	var fo failover
	select {
	case fo = <-servedAgain:
	case <-time.After(time.Until(killedAt.Add(haBound + 5*time.Second))):
		t.Fatal("the wait for the orphans did not end")
	}
	require.NoError(t, fo.err)
	lastServed := fo.last
	select {
	case fo = <-takeover:
	case <-time.After(time.Until(killedAt.Add(haBound + 5*time.Second))):
		t.Fatal("the wait for a new lease holder did not end")
	}
	require.NoError(t, fo.err)
	tookOver := fo.last
	acked, failed := 0, map[string]int{}
	for _, res := range results {
		if res.code/100 == 2 && res.err == nil {
			acked++
		} else {
			failed[res.String()]++
		}
	}
	lost := haLostWrites(t, rs, results)
	t.Logf("failover: %d orphaned clients all served again %s after the kill; lease taken over after %s (TTL %s); writes: %d sent, %d acknowledged, %d lost, not acknowledged: %v; the writes took %s after the kill",
		len(orphans), lastServed.Round(time.Millisecond), tookOver.Round(time.Millisecond), haLeaseTTL, haWrites, acked, len(lost), failed, writesDone.Round(time.Millisecond))
	fmt.Printf("replicas failover: orphaned clients=%d served again after=%s lease taken over after=%s writes sent=%d acknowledged=%d lost=%d\n",
		len(orphans), lastServed.Round(time.Millisecond), tookOver.Round(time.Millisecond), haWrites, acked, len(lost))
	require.Empty(t, lost, "acknowledged writes missing or different")
	require.Greater(t, acked, haWrites*9/10, "writes through the surviving replicas must succeed: %v", failed)

	// What the orphans got first on the new replica: what they held, or what the writes made.
	attempted := map[string]bool{}
	for i := range haWrites {
		if p := haWrite(i).edgePath; p != "" {
			attempted[p] = true
		}
	}
	older, resent, newRoutes := 0, 0, 0
	moved := map[int]int{}
	for _, c := range orphans {
		moves := c.failover()
		require.Equal(t, c.order[1], moves.replica, "client %s is on the replica it moved to first", c.node)
		moved[moves.replica]++
		require.Equal(t, 1, moves.losses, "client %s lost its stream once", c.node)
		for _, typ := range haTypes {
			held, first := moves.heldAtLoss[typ], moves.firstAfter[typ]
			if first == nil {
				continue // nothing sent: the replica's version is the one held (servedAgainBy)
			}
			if typ != haRouteType {
				require.Equal(t, held.GetVersionInfo(), first.GetVersionInfo(), "client %s: %s changed by failing over, though no write touched it", c.node, typ)
				resent++
				continue
			}
			heldPaths, err := haRoutePaths(held)
			require.NoError(t, err)
			firstPaths, err := haRoutePaths(first)
			require.NoError(t, err)
			if first.GetVersionInfo() == held.GetVersionInfo() {
				require.Equal(t, heldPaths, firstPaths, "client %s: one route version, two contents", c.node)
				resent++
				continue
			}
			for p := range firstPaths {
				require.True(t, attempted[p], "client %s: route %s no write made", c.node, p)
			}
			newRoutes++
			if !haSubset(heldPaths, firstPaths) {
				older++ // the new replica had not seen as many writes yet; it catches up below
			}
		}
	}
	require.Len(t, moved, 2, "orphans moved to both surviving replicas")
	t.Logf("after failing over, of %d orphans: %d got new routes (%d of them older than what they held), %d responses repeated a held version",
		len(orphans), newRoutes, older, resent)

	// The others never noticed; everyone converges on what a fresh client gets anywhere.
	for _, c := range clients {
		if c.order[0] != 0 {
			require.Zero(t, c.failover().losses, "client %s of a surviving replica lost its stream", c.node)
		}
	}
	var want map[string]string
	var wantRoutes map[string]bool
	require.Eventually(t, func() bool {
		v2, p2, err2 := haFresh(conns[1][0], tokens[haClients])
		v3, p3, err3 := haFresh(conns[2][0], tokens[haClients])
		want, wantRoutes = v2, p2
		if err2 != nil || err3 != nil || !assert.ObjectsAreEqual(v2, v3) || !assert.ObjectsAreEqual(p2, p3) {
			return false
		}
		for _, c := range clients {
			if !assert.ObjectsAreEqual(want, c.versions()) {
				return false
			}
		}
		return true
	}, haBound, 200*time.Millisecond, "clients and both survivors do not converge on one configuration")
	for _, typ := range haTypes {
		if typ != haRouteType {
			require.Equal(t, base[typ], want[typ], "%s changed, though no write touched it", typ)
		}
	}
	for i, res := range results {
		if p := haWrite(i).edgePath; p != "" && res.code/100 == 2 {
			require.True(t, wantRoutes[p], "acknowledged route %s is not routed", p)
		}
	}

	// Nothing issued twice: one CA root per mesh and one VIP per name, the same as before.
	require.Equal(t, caRoots, haMeshCAs(t, rs[1:]), "mesh CAs after the kill")
	require.Equal(t, caPEM, haSameOnAll(t, rs[1:], "/control-plane/ca"))
	names := []string{"api.mesh", "frontend.mesh"}
	for k := range haServices {
		names = append(names, fmt.Sprintf("ha-svc-%d.mesh", k))
	}
	after := haVIPs(t, rs[1:], names)
	for _, n := range []string{"api.mesh", "frontend.mesh"} {
		require.Equal(t, vips[n], after[n], "VIP of %s changed", n)
	}
	seen := map[string]string{}
	for n, ip := range after {
		require.Empty(t, seen[ip], "%s and %s share VIP %s", n, seen[ip], ip)
		seen[ip] = n
	}
	// One lease holder among the survivors, and each counts two replicas (the re-issue budget
	// after a CA switch is shared by that count).
	haAwaitLeader(t, rs[1:])
	haAwaitMetrics(t, rs[1:], 2)
}

// haAwaitMetrics waits until every replica counts n live replicas (meshgate_replicas) and
// exactly one reports holding the lease (meshgate_lease_held).
func haAwaitMetrics(t *testing.T, rs []*haReplica, n int) {
	t.Helper()
	var seen []string
	ok := func() bool {
		held := 0.0
		seen = seen[:0]
		for _, r := range rs {
			count, err1 := r.metric("meshgate_replicas")
			h, err2 := r.metric(`meshgate_lease_held{lease="singleton"}`)
			if err1 != nil || err2 != nil {
				seen = append(seen, fmt.Sprintf("%s: %v %v", r.name, err1, err2))
				return false
			}
			seen = append(seen, fmt.Sprintf("%s: replicas %g, lease held %g", r.name, count, h))
			if count != float64(n) {
				return false
			}
			held += h
		}
		return held == 1
	}
	for deadline := time.Now().Add(haBound); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("replicas should count %d and one should hold the lease: %v", n, seen)
		}
	}
}

// metric reads one sample from the replica's /metrics.
func (r *haReplica) metric(sample string) (float64, error) {
	resp, err := haHTTP.Get("http://" + r.diag + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(page), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no sample %s", sample)
}

const haRouteType = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"

// haServices is how many service names the written dataplanes spread over (each gets a VIP).
const haServices = 25

func haGatewayNode(i int) string { return fmt.Sprintf("default.ha-gw-%03d", i) }

// haGatewaysYAML is n more replicas of the example gateway, on its one host (see replicasYAML).
func haGatewaysYAML(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "\n---\ntype: Dataplane\nmesh: default\nname: ha-gw-%03d\nnetworking:\n  address: 127.0.0.1\n"+
			"  gateway: {type: BUILTIN, tags: {kuma.io/service: edge-gateway}}\n", i)
	}
	return b.Bytes()
}

// haTokens issues every client's token, through each replica in turn: a token from any
// replica must be accepted by all (one set of token keys in the store).
func haTokens(t *testing.T, rs []*haReplica) []string {
	t.Helper()
	out := make([]string, haClients+1) // the last for a fresh client at the end
	for i := range out {
		body, err := json.Marshal(map[string]string{"mesh": "default", "name": fmt.Sprintf("ha-gw-%03d", i)})
		require.NoError(t, err)
		code, tok := rs[(i+1)%len(rs)].mustCall(t, http.MethodPost, "/tokens/dataplane", "application/json", body)
		require.Equal(t, http.StatusOK, code, string(tok))
		out[i] = string(tok)
	}
	return out
}

// haSameOnAll GETs path on every replica and requires the same 200 answer.
func haSameOnAll(t *testing.T, rs []*haReplica, path string) []byte {
	t.Helper()
	var first []byte
	for i, r := range rs {
		code, body := r.mustCall(t, http.MethodGet, path, "", nil)
		require.Equal(t, http.StatusOK, code, "%s on %s: %s", path, r.name, body)
		if i == 0 {
			first = body
		}
		require.Equal(t, string(first), string(body), "%s differs between %s and %s", path, rs[0].name, r.name)
	}
	return first
}

// haCreateMeshes creates meshes with a builtin CA on every replica at once: each replica then
// finds a mesh without a CA and may try to create one.
func haCreateMeshes(t *testing.T, rs []*haReplica) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan string, haMeshes*len(rs))
	for m := range haMeshes {
		body := fmt.Sprintf("type: Mesh\nname: ha-mesh-%d\nmtls:\n  enabledBackend: ca-1\n  backends:\n    - name: ca-1\n      type: builtin\n", m)
		for _, r := range rs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, out, err := r.call(http.MethodPut, fmt.Sprintf("/meshes/ha-mesh-%d", m), "application/yaml", []byte(body))
				if err != nil || code/100 != 2 {
					errs <- fmt.Sprintf("PUT ha-mesh-%d on %s: %d %v %s", m, r.name, code, err, out)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// haMeshCAs returns each mesh's CA roots (sha256), which must be one root, the same on every
// replica.
func haMeshCAs(t *testing.T, rs []*haReplica) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for m := range haMeshes {
		mesh := fmt.Sprintf("ha-mesh-%d", m)
		for _, r := range rs {
			var roots []string
			require.Eventually(t, func() bool {
				code, body, err := r.call(http.MethodGet, "/meshes/"+mesh+"/ca", "", nil)
				if err != nil || code != http.StatusOK {
					return false
				}
				var st CAStatusDoc
				if json.Unmarshal(body, &st) != nil {
					return false
				}
				roots = roots[:0]
				for _, root := range st.Roots {
					roots = append(roots, root.SHA256)
				}
				return true
			}, haBound, 50*time.Millisecond, "%s has no CA on %s", mesh, r.name)
			require.Len(t, roots, 1, "%s on %s: one CA root", mesh, r.name)
			if prev, ok := out[mesh]; ok {
				require.Equal(t, prev, roots, "%s: %s holds another CA", mesh, r.name)
			}
			out[mesh] = slices.Clone(roots)
		}
	}
	return out
}

// CAStatusDoc is the part of GET /meshes/{mesh}/ca the test reads.
type CAStatusDoc struct {
	Roots []struct {
		SHA256 string `json:"sha256"`
	} `json:"roots"`
}

// haVIPs resolves names on every replica's DNS server until each answers one A record, the
// same on all.
func haVIPs(t *testing.T, rs []*haReplica, names []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		var answers []string
		require.Eventually(t, func() bool {
			answers = answers[:0]
			for _, r := range rs {
				m := new(mdns.Msg)
				m.SetQuestion(mdns.Fqdn(n), mdns.TypeA)
				resp, _, err := (&mdns.Client{Timeout: 2 * time.Second}).Exchange(m, r.dns)
				if err != nil || resp.Rcode != mdns.RcodeSuccess || len(resp.Answer) != 1 {
					return false
				}
				a, ok := resp.Answer[0].(*mdns.A)
				if !ok {
					return false
				}
				answers = append(answers, a.A.String())
			}
			return true
		}, haBound, 100*time.Millisecond, "%s does not resolve to one address on every replica", n)
		for _, a := range answers {
			require.Equal(t, answers[0], a, "%s: replicas answer different VIPs: %v", n, answers)
		}
		out[n] = answers[0]
	}
	return out
}

func haDial(t *testing.T, addr string, cfg *tls.Config) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// haFresh is a fresh client's view on one replica: its versions and its /ha/ routes. It runs in
// require.Eventually's goroutine, so it returns errors instead of failing the test.
func haFresh(conn *grpc.ClientConn, token string) (map[string]string, map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f := newHAClient(haGatewayNode(haClients), token, []int{0})
	done := make(chan error, 1)
	go func() { done <- f.session(ctx, conn) }()
	select {
	case <-f.served:
	case err := <-done:
		return nil, nil, fmt.Errorf("fresh client: stream ended: %w", err)
	case <-ctx.Done():
		return nil, nil, errors.New("fresh client not served within 5s")
	}
	cancel()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	paths, err := haRoutePaths(f.held[haRouteType])
	return f.versionsLocked(), paths, err
}

func haSubset(a, b map[string]bool) bool {
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// haWriteSpec is write i: a resource PUT as JSON. One in ten adds a route to the edge gateway
// (the clients' routes change); half are service dataplanes (new services, so VIPs are
// allocated while replicas race); the rest are routes of a gateway no client runs.
type haWriteSpec struct {
	path     string
	body     []byte
	edgePath string            // the path an edge route adds, "" for other writes
	check    map[string]string // JSON pointer-ish fields of the stored resource and their values
}

func haWrite(i int) haWriteSpec {
	route := func(name, service, path, backend string) []byte {
		return haJSON(map[string]any{"type": "MeshGatewayRoute", "mesh": "default", "name": name,
			"selectors": []any{map[string]any{"match": map[string]any{"kuma.io/service": service, "port": "http/8080"}}},
			"conf": map[string]any{"http": map[string]any{"rules": []any{map[string]any{
				"matches":  []any{map[string]any{"path": map[string]any{"match": "PREFIX", "value": path}}},
				"backends": []any{map[string]any{"destination": map[string]any{"kuma.io/service": backend}}},
			}}}}})
	}
	switch {
	case i%10 == 0:
		name, p := fmt.Sprintf("ha-route-%03d", i), fmt.Sprintf("/ha/%d", i)
		return haWriteSpec{path: "/meshes/default/meshgatewayroutes/" + name, body: route(name, "edge-gateway", p, "api"), edgePath: p,
			check: map[string]string{"name": name, "path": p}}
	case i%2 == 1:
		name, svc, port := fmt.Sprintf("ha-dp-%03d", i), fmt.Sprintf("ha-svc-%d", i%haServices), 20000+i
		return haWriteSpec{path: "/meshes/default/dataplanes/" + name, body: haJSON(map[string]any{"type": "Dataplane", "mesh": "default", "name": name,
			"networking": map[string]any{"address": "127.0.0.1", "inbound": []any{map[string]any{"port": port,
				"tags": map[string]any{"kuma.io/service": svc, "kuma.io/protocol": "http"}}}}}),
			check: map[string]string{"name": name, "service": svc, "port": fmt.Sprint(port)}}
	default:
		name, p := fmt.Sprintf("ha-other-%03d", i), fmt.Sprintf("/other/%d", i)
		return haWriteSpec{path: "/meshes/default/meshgatewayroutes/" + name, body: route(name, "ha-other-gateway", p, "frontend"),
			check: map[string]string{"name": name, "path": p}}
	}
}

func haJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

type haWriteResult struct {
	code int
	err  error
	body string
}

func (r haWriteResult) String() string {
	if r.err != nil {
		msg := r.err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return "error: " + msg
	}
	return fmt.Sprintf("%d %s", r.code, strings.TrimSpace(r.body))
}

// haLostWrites reads every acknowledged write back through the surviving replica it was not
// written to, and returns those missing or not as written.
func haLostWrites(t *testing.T, rs []*haReplica, results []haWriteResult) []string {
	t.Helper()
	var lost []string
	for i, res := range results {
		if res.code/100 != 2 || res.err != nil {
			continue
		}
		w := haWrite(i)
		r := rs[2-i%2] // written to rs[1+i%2]
		code, body := r.mustCall(t, http.MethodGet, w.path, "", nil)
		if code != http.StatusOK {
			lost = append(lost, fmt.Sprintf("%s: %d %s", w.path, code, body))
			continue
		}
		if got := haStored(t, body); !assert.ObjectsAreEqual(w.check, got) {
			lost = append(lost, fmt.Sprintf("%s: stored %v, written %v", w.path, got, w.check))
		}
	}
	return lost
}

// haStored extracts from a stored resource the fields haWrite checks.
func haStored(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var doc struct {
		Type       string `json:"type"`
		Name       string `json:"name"`
		Networking struct {
			Inbound []struct {
				Port int               `json:"port"`
				Tags map[string]string `json:"tags"`
			} `json:"inbound"`
		} `json:"networking"`
		Conf struct {
			HTTP struct {
				Rules []struct {
					Matches []struct {
						Path struct {
							Value string `json:"value"`
						} `json:"path"`
					} `json:"matches"`
				} `json:"rules"`
			} `json:"http"`
		} `json:"conf"`
	}
	require.NoError(t, json.Unmarshal(body, &doc), string(body))
	out := map[string]string{"name": doc.Name}
	switch doc.Type {
	case "Dataplane":
		for _, in := range doc.Networking.Inbound {
			out["service"], out["port"] = in.Tags["kuma.io/service"], fmt.Sprint(in.Port)
		}
	default:
		for _, r := range doc.Conf.HTTP.Rules {
			for _, m := range r.Matches {
				out["path"] = m.Path.Value
			}
		}
	}
	return out
}

// haAwaitServedAgain waits until every orphan is served by the replica it moved to (see
// servedAgainBy), asking the replicas a few at a time, and returns how long after the kill the
// last one was. Polling makes the figure an upper bound, by about one round.
func haAwaitServedAgain(rs []*haReplica, orphans []*haClient, killedAt time.Time) (time.Duration, error) {
	pending := slices.Clone(orphans)
	var last time.Duration
	for len(pending) > 0 {
		if time.Since(killedAt) > haBound {
			return 0, fmt.Errorf("%d clients of the killed replica not served again within %s of the kill, e.g. %s", len(pending), haBound, pending[0])
		}
		served := make([]time.Time, len(pending))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 4)
		for i, c := range pending {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				name := strings.TrimPrefix(c.node, "default.")
				code, body, err := rs[c.replica()].call(http.MethodGet, "/meshes/default/dataplanes/"+name+"/inspect", "", nil)
				var st haInspection
				if err != nil || code != http.StatusOK || json.Unmarshal(body, &st) != nil || !c.servedAgainBy(st) {
					return
				}
				served[i] = time.Now()
			}()
		}
		wg.Wait()
		var next []*haClient
		for i, c := range pending {
			if served[i].IsZero() {
				next = append(next, c)
				continue
			}
			c.mu.Lock()
			c.servedAgainAt = served[i]
			c.mu.Unlock()
			last = max(last, served[i].Sub(killedAt))
		}
		pending = next
		if len(pending) > 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return last, nil
}

// haLeaderDoc is the part of GET /leader (diagnostics port) the test reads.
type haLeaderDoc struct {
	Replica string `json:"replica"`
	Leader  bool   `json:"leader"`
	Holder  string `json:"holder"`
	Fence   int64  `json:"fence"`
}

func (r *haReplica) leader() (haLeaderDoc, error) {
	var doc haLeaderDoc
	resp, err := haHTTP.Get("http://" + r.diag + "/leader")
	if err != nil {
		return doc, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return doc, fmt.Errorf("GET /leader on %s: %s", r.name, resp.Status)
	}
	return doc, json.NewDecoder(resp.Body).Decode(&doc)
}

// haAwaitLeader waits until exactly one replica holds the lease and all agree which, and
// returns its index.
func haAwaitLeader(t *testing.T, rs []*haReplica) int {
	t.Helper()
	leader := -1
	var docs []haLeaderDoc
	require.Eventually(t, func() bool {
		leader, docs = -1, docs[:0]
		for i, r := range rs {
			doc, err := r.leader()
			if err != nil {
				return false
			}
			docs = append(docs, doc)
			if doc.Leader {
				if leader >= 0 {
					return false
				}
				leader = i
			}
		}
		if leader < 0 {
			return false
		}
		for _, d := range docs {
			if d.Holder != docs[leader].Replica {
				return false
			}
		}
		return true
	}, haBound, 50*time.Millisecond, "no single lease holder all replicas agree on: %+v", docs)
	return leader
}

// haAwaitTakeover waits until one of the survivors holds the lease and returns how long after
// the kill that was.
func haAwaitTakeover(survivors []*haReplica, killedAt time.Time) (time.Duration, error) {
	for time.Since(killedAt) < haBound {
		for _, r := range survivors {
			if doc, err := r.leader(); err == nil && doc.Leader {
				return time.Since(killedAt), nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("no surviving replica took the lease within %s of the kill", haBound)
}
