package podconv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files of kube/podconv")

// readRequest reads a multi-document YAML of Namespaces, Services and Pods, written as
// `kubectl get -o yaml` prints them.
func readRequest(t *testing.T, path string) Request {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var req Request
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		require.Less(t, i, 1000, "%s: too many documents", path)
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "%s: document %d", path, i)
		var tm metav1.TypeMeta
		require.NoError(t, yaml.Unmarshal(doc, &tm), "%s: document %d", path, i)
		var target any
		switch tm.Kind {
		case "":
			continue // only comments
		case "Namespace":
			ns := &corev1.Namespace{}
			req.Namespaces, target = append(req.Namespaces, ns), ns
		case "Service":
			svc := &corev1.Service{}
			req.Services, target = append(req.Services, svc), svc
		case "Pod":
			pod := &corev1.Pod{}
			req.Pods, target = append(req.Pods, pod), pod
		default:
			t.Fatalf("%s: document %d: unexpected kind %q", path, i, tm.Kind)
		}
		require.NoError(t, yaml.UnmarshalStrict(doc, target), "%s: document %d", path, i)
	}
	return req
}

// golden is what a case's golden file holds: each Dataplane as api.Encode writes it, and the
// problems.
type golden struct {
	Dataplanes []json.RawMessage `json:"dataplanes"`
	Problems   []Problem         `json:"problems"`
}

func render(t *testing.T, res Result) []byte {
	t.Helper()
	g := golden{Problems: res.Problems}
	for _, dp := range res.Dataplanes {
		b, err := api.Encode(dp)
		require.NoError(t, err)
		g.Dataplanes = append(g.Dataplanes, b)
	}
	j, err := json.Marshal(g)
	require.NoError(t, err)
	y, err := yaml.JSONToYAML(j)
	require.NoError(t, err)
	return y
}

// requireValid checks that every Dataplane passes meshgate's own validation and survives the
// round trip through its universal form (what the store keeps): Encode, then Decode, which
// validates again, gives the same resource.
func requireValid(t *testing.T, res Result) {
	t.Helper()
	for _, dp := range res.Dataplanes {
		require.Empty(t, dp.Validate(), "Dataplane %s", dp.Name)
		data, err := api.Encode(dp)
		require.NoError(t, err)
		objs, errs := api.Decode(dp.Name+".json", data)
		require.Empty(t, errs, "Dataplane %s: %s", dp.Name, data)
		require.Len(t, objs, 1)
		back, ok := objs[0].(*api.Dataplane)
		require.True(t, ok, "decoded %T", objs[0])
		require.Equal(t, dp.Kind, back.Kind)
		require.Equal(t, dp.Mesh, back.Mesh)
		require.Equal(t, dp.Name, back.Name)
		require.Equal(t, dp.Spec, back.Spec, "Dataplane %s", dp.Name)
	}
}

// shuffled is req with every list in another order.
func shuffled(req Request, seed uint64) Request {
	r := rand.New(rand.NewPCG(seed, seed))
	out := Request{
		Pods:       append([]*corev1.Pod(nil), req.Pods...),
		Services:   append([]*corev1.Service(nil), req.Services...),
		Namespaces: append([]*corev1.Namespace(nil), req.Namespaces...),
	}
	r.Shuffle(len(out.Pods), func(i, j int) { out.Pods[i], out.Pods[j] = out.Pods[j], out.Pods[i] })
	r.Shuffle(len(out.Services), func(i, j int) { out.Services[i], out.Services[j] = out.Services[j], out.Services[i] })
	r.Shuffle(len(out.Namespaces), func(i, j int) {
		out.Namespaces[i], out.Namespaces[j] = out.Namespaces[j], out.Namespaces[i]
	})
	return out
}

// TestConvertGolden converts each testdata/<case>.input.yaml and compares the Dataplanes (as
// api.Encode writes them) and problems with testdata/<case>.golden.yaml; -update rewrites
// those. Every Dataplane must be valid, and the output must not depend on input order.
func TestConvertGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.input.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".input.yaml")
		t.Run(name, func(t *testing.T) {
			req := readRequest(t, in)
			res := Convert(req)
			requireValid(t, res)
			got := render(t, res)
			for seed := range uint64(5) {
				require.Equal(t, string(got), string(render(t, Convert(shuffled(req, seed)))), "output depends on input order (seed %d)", seed)
			}
			path := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "golden file missing: run go test ./kube/podconv -update")
			require.Equal(t, string(want), string(got), "%s differs; if the change is intended, run go test ./kube/podconv -update and review the diff", path)
		})
	}
}

// dataplane returns the Dataplane named name from res, failing if there is none.
func dataplane(t *testing.T, res Result, name string) *api.Dataplane {
	t.Helper()
	for _, dp := range res.Dataplanes {
		if dp.Name == name {
			return dp
		}
	}
	names := make([]string, 0, len(res.Dataplanes))
	for _, dp := range res.Dataplanes {
		names = append(names, dp.Name)
	}
	t.Fatalf("no Dataplane %s; have %v", name, names)
	return nil
}

func problemsOf(res Result, ns, pod string) []string {
	var out []string
	for _, p := range res.Problems {
		if p.Namespace == ns && p.Name == pod {
			out = append(out, p.Reason+": "+p.Message)
		}
	}
	return out
}

func names(res Result) []string {
	out := make([]string, 0, len(res.Dataplanes))
	for _, dp := range res.Dataplanes {
		out = append(out, dp.Mesh+"/"+dp.Name)
	}
	return out
}

// The golden files are reviewed once; these tests state the rules they show, so that a
// careless -update cannot bless a regression.

func TestConvertSeedGatewayPod(t *testing.T) {
	res := Convert(readRequest(t, "testdata/seed-gateway.input.yaml"))
	require.Empty(t, res.Problems)
	require.Equal(t, []string{"default/edge-gateway-6f7d9c8b5-x2x7q.default"}, names(res))
	dp := res.Dataplanes[0]
	require.Equal(t, api.KindDataplane, dp.Kind)
	require.Equal(t, api.Networking{
		Address: "10.244.0.7",
		Gateway: &api.DataplaneGateway{Type: api.GatewayBuiltin, Tags: map[string]string{"kuma.io/service": "edge-gateway"}},
	}, dp.Spec.Networking, "a builtin gateway has no inbounds and no transparent proxy, whatever Service selects it")
	require.Equal(t, "2026-12-06T10:00:00Z", dp.CreationTime.UTC().Format("2006-01-02T15:04:05Z"))
	data, err := api.Encode(dp)
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"Dataplane","mesh":"default","name":"edge-gateway-6f7d9c8b5-x2x7q.default",
		"networking":{"address":"10.244.0.7","gateway":{"type":"BUILTIN","tags":{"kuma.io/service":"edge-gateway"}}}}`, string(data))
}

func TestConvertSidecarInbounds(t *testing.T) {
	res := Convert(readRequest(t, "testdata/sidecar.input.yaml"))
	require.Empty(t, res.Problems)
	dp := dataplane(t, res, "web-5d8c7b9f4-abcde.shop")
	require.Equal(t, "default", dp.Mesh)
	require.Equal(t, &api.TransparentProxying{RedirectPortInbound: 15006, RedirectPortOutbound: 15001, IPFamilyMode: "DualStack"},
		dp.Spec.Networking.TransparentProxying)
	type inbound struct {
		Port                   uint32
		Service, Protocol, Pod string
		Ready                  bool
	}
	var got []inbound
	for _, in := range dp.Spec.Networking.Inbound {
		require.Equal(t, "shop", in.Tags["k8s.kuma.io/namespace"])
		require.Equal(t, "web", in.Tags["app"], "pod labels are tags")
		require.Equal(t, "5d8c7b9f4", in.Tags["pod-template-hash"])
		require.NotContains(t, in.Tags, "kuma.io/mesh-ignored-label", "Kuma's own labels are not tags")
		require.NotContains(t, in.Tags, "empty", "empty labels are not tags")
		got = append(got, inbound{in.Port, in.Tags["kuma.io/service"], in.Tags["kuma.io/protocol"], in.Tags["kuma.io/instance"], in.Health.Ready})
	}
	require.Equal(t, []inbound{
		// targetPort "http" is the web container's port 8080; the protocol is the annotation's.
		{8080, "web_shop_svc_80", "http", "", true},
		// appProtocol kubernetes.io/h2c is not Kuma's: tcp. No targetPort: the service port,
		// declared by no container, so every container's readiness counts (peers is not ready).
		{7070, "web-admin_shop_svc_7070", "tcp", "", false},
		// appProtocol http; the numeric targetPort is declared by the web container, ready.
		{9090, "web-admin_shop_svc_9091", "http", "", true},
		// Headless: the instance tag names the pod. Port 7946 is declared by no container.
		{7946, "web-peers_shop_svc_7946", "tcp", "web-5d8c7b9f4-abcde", false},
	}, got)
	in := dp.Spec.Networking.Inbound[0]
	require.Equal(t, uint32(8080), in.Port)
	require.Equal(t, map[string]string{
		"app": "web", "version": "v1", "pod-template-hash": "5d8c7b9f4",
		"k8s.kuma.io/namespace": "shop", "k8s.kuma.io/service-name": "web", "k8s.kuma.io/service-port": "80",
		"kuma.io/service": "web_shop_svc_80", "kuma.io/protocol": "http",
	}, in.Tags)
}

func TestConvertInjection(t *testing.T) {
	res := Convert(readRequest(t, "testdata/injection.input.yaml"))
	require.Empty(t, res.Problems)
	require.Equal(t, []string{"default/importer.batch", "default/worker-7c9d5b6f8-h8xkq.legacy"}, names(res),
		"the pod that disables injection and the pod of an unlabelled namespace are not in the mesh")
	worker := dataplane(t, res, "worker-7c9d5b6f8-h8xkq.legacy")
	require.Equal(t, []api.Inbound{{
		Port: 49151,
		Tags: map[string]string{
			"app": "worker", "k8s.kuma.io/namespace": "legacy", "kuma.io/service": "worker_legacy_svc",
			"kuma.io/protocol": "tcp", "kuma.io/instance": "worker-7c9d5b6f8-h8xkq",
		},
		Health: &api.Health{Ready: true},
	}}, worker.Spec.Networking.Inbound, "a pod no Service selects gets Kuma's serviceless inbound, named after its Deployment")
	importer := dataplane(t, res, "importer.batch")
	require.Equal(t, "importer_batch_svc", importer.Spec.Networking.Inbound[0].Tags["kuma.io/service"])
}

func TestConvertLifecycle(t *testing.T) {
	res := Convert(readRequest(t, "testdata/lifecycle.input.yaml"))
	require.Equal(t, []string{"default/api-running.apps", "default/api-terminating.apps", "default/early-own-mesh.unseen"}, names(res),
		"no IP, Succeeded and Failed pods have no Dataplane; an unknown namespace costs only pods that need it")
	require.True(t, dataplane(t, res, "api-running.apps").Spec.Networking.Inbound[0].Health.Ready)
	require.False(t, dataplane(t, res, "api-terminating.apps").Spec.Networking.Inbound[0].Health.Ready,
		"a terminating pod keeps its Dataplane but takes no new traffic")
	require.Equal(t, uint32(8080), dataplane(t, res, "api-running.apps").Spec.Networking.Inbound[0].Port)
	require.Equal(t, []string{ReasonFailed + ": namespace unseen is unknown, so is the pod's mesh (it sets no kuma.io/mesh itself)"},
		problemsOf(res, "unseen", "early-no-mesh"))
	require.Len(t, res.Problems, 1, "early-quiet depends on its namespace for membership and is skipped quietly")
}

func TestConvertGatewayProblems(t *testing.T) {
	res := Convert(readRequest(t, "testdata/gateway-problems.input.yaml"))
	require.Empty(t, res.Dataplanes)
	want := map[string]string{
		"gw-missing":    "Missing kuma.io/tags annotation on Pod serving a builtin Gateway",
		"gw-number":     "Invalid kuma.io/tags annotation on Pod serving a builtin Gateway: it must be a JSON object of strings",
		"gw-array":      "Invalid kuma.io/tags annotation on Pod serving a builtin Gateway: it must be a JSON object of strings",
		"gw-null":       "Invalid kuma.io/tags annotation on Pod serving a builtin Gateway: it must be a JSON object of strings",
		"gw-no-service": `Dataplane gw-no-service.edge is invalid: networking.gateway.tags: mandatory tag "kuma.io/service" is missing`,
		"gw-bad-mesh":   "Dataplane gw-bad-mesh.edge is invalid: mesh: invalid characters",
	}
	require.Len(t, res.Problems, len(want))
	for pod, prefix := range want {
		got := problemsOf(res, "edge", pod)
		require.Len(t, got, 1, pod)
		require.True(t, strings.HasPrefix(got[0], ReasonFailed+": "+prefix), "%s: %s", pod, got[0])
	}
}

func TestConvertMeshes(t *testing.T) {
	res := Convert(readRequest(t, "testdata/meshes.input.yaml"))
	require.Empty(t, res.Problems)
	require.Equal(t, []string{"canary/billing-canary.payments", "labelled/journal-0.ledger", "other/billing-0.payments"}, names(res))
	in := dataplane(t, res, "billing-0.payments").Spec.Networking.Inbound
	require.Len(t, in, 1)
	require.Equal(t, "http2", in[0].Tags["kuma.io/protocol"], "appProtocol is case-insensitive")
	require.Equal(t, uint32(8443), in[0].Port)
}

func TestConvertOptions(t *testing.T) {
	res := Convert(readRequest(t, "testdata/options.input.yaml"))
	require.Equal(t, []string{"default/echo-ok.kong", "default/kong-6b8d9f7c4-q9w8e.kong"}, names(res))
	require.Equal(t, []string{ReasonUnknownProtocol + `: Service echo annotation 80.service.kuma.io/protocol has the value "quic", not one of grpc, http, http2, kafka, tcp; port 80 is treated as tcp; ` +
		`Service echo annotation 81.service.kuma.io/protocol has the value "websocket", not one of grpc, http, http2, kafka, tcp; port 81 is treated as tcp`},
		problemsOf(res, "kong", "echo-ok"), "a pod's problems are one")
	kong := dataplane(t, res, "kong-6b8d9f7c4-q9w8e.kong")
	require.Empty(t, kong.Spec.Networking.Inbound)
	require.Equal(t, &api.DataplaneGateway{Type: api.GatewayDelegated, Tags: map[string]string{
		// The first inbound's tags: port 80, whose unknown protocol annotation gives tcp, the
		// only protocol a gateway's tags may carry.
		"app": "kong", "k8s.kuma.io/namespace": "kong", "k8s.kuma.io/service-name": "kong-proxy",
		"k8s.kuma.io/service-port": "80", "kuma.io/service": "kong-proxy_kong_svc_80", "kuma.io/protocol": "tcp",
	}}, kong.Spec.Networking.Gateway)
	require.Equal(t, &api.TransparentProxying{RedirectPortInbound: 15008, RedirectPortOutbound: 15002, IPFamilyMode: "IPv4"},
		kong.Spec.Networking.TransparentProxying)
	require.Equal(t, &api.Admin{Port: 9902}, kong.Spec.Networking.Admin)

	require.Equal(t, []string{ReasonUnknownProtocol + `: Service kong-proxy annotation 80.service.kuma.io/protocol has the value "htttp", not one of grpc, http, http2, kafka, tcp; port 80 is treated as tcp`},
		problemsOf(res, "kong", "kong-6b8d9f7c4-q9w8e"))
	for pod, want := range map[string]string{
		"echo-typo":        `pod label kuma.io/sidecar-injection has the value "yes"`,
		"echo-provided":    `invalid kuma.io/gateway annotation "provided"`,
		"echo-bad-port":    `annotation kuma.io/transparent-proxying-inbound-port has the value "70000"`,
		"echo-bad-family":  `annotation kuma.io/transparent-proxying-ip-family-mode has the value "ipv6"`,
		"echo-admin-clash": `Dataplane echo-admin-clash.kong is invalid: networking.admin.port: must differ from inbound`,
	} {
		got := problemsOf(res, "kong", pod)
		require.Len(t, got, 1, pod)
		require.True(t, strings.HasPrefix(got[0], ReasonFailed+": "+want), "%s: %s", pod, got[0])
	}
}

func TestConvertNilAndEmpty(t *testing.T) {
	require.Equal(t, Result{}, Convert(Request{}))
	require.Equal(t, Result{}, Convert(Request{Pods: []*corev1.Pod{nil}, Services: []*corev1.Service{nil}, Namespaces: []*corev1.Namespace{nil}}))
}

func TestWorkloadName(t *testing.T) {
	for pod, want := range map[string]string{
		"web-5d8c7b9f4-abcde":    "web",
		"my-web-5d8c7b9f4-abcde": "my-web",
		"cron-29000000-abcde":    "cron",
		"importer":               "importer",
		"two-parts":              "two-parts",
		"statefulset-name-0":     "statefulset",
		"a-b-c":                  "a",
	} {
		require.Equal(t, want, workloadName(pod), fmt.Sprintf("pod %s", pod))
	}
}

func TestPodOfReadsDataplaneName(t *testing.T) {
	ns, pod, ok := PodOf(DataplaneName("shop", "web.v2-0"))
	require.True(t, ok)
	require.Equal(t, "shop", ns)
	require.Equal(t, "web.v2-0", pod, "a pod name may hold dots; the namespace cannot")
	for _, bad := range []string{"", "nodot", ".ns", "pod."} {
		_, _, ok := PodOf(bad)
		require.False(t, ok, bad)
	}
}
