package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/kube"
	"gopkg.in/yaml.v3"
)

var updateInstall = flag.Bool("update", false, "rewrite the golden files of `meshgate install`")

// checkGolden compares output with testdata/install/<name>, or rewrites it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "install", name)
	if *updateInstall {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run `go test ./cmd/meshgate -run TestInstall -update` to create it")
	assert.Equal(t, string(want), got, "%s differs; rerun with -update if the change is intended", path)
}

// installDocs parses a multi-document stream and checks what kubectl needs of every document.
func installDocs(t *testing.T, out string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(out))
	var docs []map[string]any
	for i := 0; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "document %d", i)
		require.NotNil(t, doc, "document %d is empty", i)
		assert.NotEmpty(t, doc["apiVersion"], "document %d: apiVersion", i)
		assert.NotEmpty(t, doc["kind"], "document %d: kind", i)
		meta, _ := doc["metadata"].(map[string]any)
		assert.NotEmpty(t, meta["name"], "document %d (%v): metadata.name", i, doc["kind"])
		docs = append(docs, doc)
	}
	return docs
}

func TestInstallCRDs(t *testing.T) {
	out, stderr, code := runCLI(t, "install", "crds")
	require.Equal(t, 0, code, stderr)
	checkGolden(t, "crds.yaml", out)
	docs := installDocs(t, out)
	require.Len(t, docs, len(kube.CRDs()))
	for _, d := range docs {
		assert.Equal(t, "CustomResourceDefinition", d["kind"])
	}
}

func TestInstallControlPlane(t *testing.T) {
	out, stderr, code := runCLI(t, "install", "control-plane", "--image", "example.com/meshgate:v0.0.0-test")
	require.Equal(t, 0, code, stderr)
	checkGolden(t, "control-plane.yaml", out)

	crds, _, _ := runCLI(t, "install", "crds")
	require.True(t, strings.HasPrefix(out, crds), "control-plane starts with exactly the CRDs")
	var kinds []string
	byKind := map[string]map[string]any{}
	for _, d := range installDocs(t, out)[len(kube.CRDs()):] {
		kind := d["kind"].(string)
		kinds = append(kinds, kind)
		byKind[kind] = d
		meta := d["metadata"].(map[string]any)
		switch kind {
		case "Namespace", "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration":
			assert.Nil(t, meta["namespace"], kind)
		default:
			assert.Equal(t, "meshgate-system", meta["namespace"], kind)
		}
	}
	assert.Equal(t, []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service", "ValidatingWebhookConfiguration"}, kinds)

	container := byKind["Deployment"]["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
	assert.Equal(t, "example.com/meshgate:v0.0.0-test", container["image"])
	assert.Contains(t, container["args"], "--environment=kubernetes")
	assert.Contains(t, container["args"], "--gateway-image=example.com/meshgate:v0.0.0-test", "gateway pods run the same image")
	assert.Contains(t, container["args"], "--kube-namespace=meshgate-system")
	assert.Contains(t, container["args"], "--webhook-configuration=meshgate")
	// The container runs `meshgate run` with these arguments: every flag must be one of its own.
	var args []string
	for _, a := range container["args"].([]any) {
		args = append(args, a.(string))
	}
	require.Equal(t, "run", args[0])
	run := newRunCmd()
	require.NoError(t, run.ParseFlags(args[1:]), "the Deployment's arguments parse as meshgate run's flags")
	require.NoError(t, run.ValidateArgs(run.Flags().Args()))
	assert.Equal(t, "kubernetes", run.Flags().Lookup("environment").Value.String())
	var ports []string
	for _, p := range byKind["Service"]["spec"].(map[string]any)["ports"].([]any) {
		pm := p.(map[string]any)
		ports = append(ports, pm["name"].(string)+"/"+pm["protocol"].(string))
	}
	assert.Equal(t, []string{"xds/TCP", "https-api/TCP", "diag/TCP", "dns-udp/UDP", "dns-tcp/TCP"}, ports)

	// The webhooks call the meshgate Service's HTTPS API port; the control plane sets the
	// caBundle at start, which the printed YAML says where it is left out (so that re-applying
	// the file does not clear it).
	webhooks := byKind["ValidatingWebhookConfiguration"]["webhooks"].([]any)
	require.Len(t, webhooks, 2)
	for _, w := range webhooks {
		wh := w.(map[string]any)
		cc := wh["clientConfig"].(map[string]any)
		assert.Equal(t, map[string]any{"namespace": "meshgate-system", "name": "meshgate", "path": "/validate", "port": 5682},
			cc["service"], wh["name"])
		assert.NotContains(t, cc, "caBundle", wh["name"])
		assert.Equal(t, "Fail", wh["failurePolicy"], wh["name"])
		assert.Equal(t, "None", wh["sideEffects"], wh["name"])
		assert.Equal(t, 5, wh["timeoutSeconds"], wh["name"])
		assert.Equal(t, []any{"v1"}, wh["admissionReviewVersions"], wh["name"])
	}
	assert.Equal(t, []any{map[string]any{"apiGroups": []any{"kuma.io"}, "apiVersions": []any{"v1alpha1"},
		"operations": []any{"CREATE", "UPDATE"}, "resources": []any{"*"}, "scope": "*"}},
		webhooks[0].(map[string]any)["rules"])
	assert.Contains(t, out, "    clientConfig:\n      # caBundle: set by the meshgate control plane at start (run --webhook-configuration) to its CA;\n")

	// RBAC to watch this configuration and patch its caBundle, for this configuration only.
	assert.Contains(t, byKind["ClusterRole"]["rules"], map[string]any{
		"apiGroups": []any{"admissionregistration.k8s.io"}, "resources": []any{"validatingwebhookconfigurations"},
		"resourceNames": []any{"meshgate"}, "verbs": []any{"get", "list", "watch", "patch"}})
}

func TestInstallControlPlaneFlags(t *testing.T) {
	out, stderr, code := runCLI(t, "install", "control-plane", "--namespace", "gateways", "--admin-token-secret", "cp-token")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "\n  namespace: gateways\n")
	assert.NotContains(t, out, "meshgate-system")
	assert.Contains(t, out, "name: cp-token\n")
	assert.Contains(t, out, "--xds-tls-san=meshgate.gateways.svc\n")
	assert.Contains(t, out, "image: meshgate/meshgate:", "the default image is this build's")

	_, stderr, code = runCLI(t, "install", "control-plane", "--namespace", "Not_A_Label", "--image", "")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `namespace "Not_A_Label": must be a DNS label`)
	assert.Contains(t, stderr, "image: cannot be empty")
}

// The printed manifests are the same bytes on every run (maps are sorted), so applying them
// twice changes nothing and the golden files are stable.
func TestInstallIsDeterministic(t *testing.T) {
	a, _, _ := runCLI(t, "install", "control-plane")
	b, _, _ := runCLI(t, "install", "control-plane")
	assert.True(t, bytes.Equal([]byte(a), []byte(b)))
}

// `meshgate validate` reads a MeshGatewayInstance in its Kubernetes form (the seed's) and
// refuses the universal form, which Kuma does not have for this kind.
func TestValidateMeshGatewayInstance(t *testing.T) {
	_, stderr, code := runCLI(t, "validate", "-f", "../../api/v1alpha1/testdata/seed/meshgatewayinstance-k8s.yaml",
		"-f", "../../api/v1alpha1/testdata/seed/meshgateway-k8s.yaml")
	require.Equal(t, 0, code, stderr)

	dir := t.TempDir()
	universal := filepath.Join(dir, "universal.yaml")
	require.NoError(t, os.WriteFile(universal, []byte("type: MeshGatewayInstance\nname: gw\n"), 0o644))
	_, stderr, code = runCLI(t, "validate", "-f", universal)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, universal+":1: type: MeshGatewayInstance exists only on Kubernetes")

	invalid := filepath.Join(dir, "invalid.yaml")
	require.NoError(t, os.WriteFile(invalid, []byte("apiVersion: kuma.io/v1alpha1\nkind: MeshGatewayInstance\n"+
		"metadata: {name: gw, namespace: default}\nspec:\n  replicas: 0\n  tags: {kuma.io/service: gw}\n"), 0o644))
	_, stderr, code = runCLI(t, "validate", "-f", invalid)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, invalid+":5: MeshGatewayInstance default/gw.default: replicas: must be at least 1")
}
