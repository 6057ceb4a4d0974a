package kube

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

const (
	// WebhookPath is where the control plane serves its validating admission webhook
	// (kube/admission), on its HTTPS API port.
	WebhookPath = "/validate"
	// WebhookConfigurationName is the ValidatingWebhookConfiguration `meshgate install
	// control-plane` prints; the control plane patches the caBundle of its webhooks at start
	// (its ClusterRole allows get and patch of this name only).
	WebhookConfigurationName = Name
	// WebhookKuma and WebhookSecrets name the configuration's two webhooks: kuma.io objects,
	// and Kuma mesh Secrets in the control plane's namespace.
	WebhookKuma    = "kuma.validator.meshgate.io"
	WebhookSecrets = "secrets.validator.meshgate.io"
	// WebhookTimeoutSeconds is how long the API server waits for the webhook.
	WebhookTimeoutSeconds = 5
)

// caBundleComment explains, in the printed YAML, why the clientConfig has no caBundle. Without
// one the API server verifies the webhook's certificate against its own system roots, which do
// not hold meshgate's CA: with failurePolicy Fail, what the webhook checks is refused until the
// control plane has set the caBundle. An empty `caBundle: ""` would behave the same on the
// first apply, but re-applying the file (kubectl apply's three-way merge, or server-side apply
// with --force-conflicts) would then clear the CA the control plane set.
const caBundleComment = "caBundle: set by the meshgate control plane at start (run --webhook-configuration) to its CA;\n" +
	"until then the API server refuses what this webhook checks. Left out here so that\n" +
	"re-applying this file does not clear it."

// webhookConfiguration sends creates and updates of every kuma.io/v1alpha1 resource, and of
// Kuma mesh Secrets in the control plane's namespace (where it reads them), to the control
// plane's HTTPS API. failurePolicy Fail: an object the webhook could not check is refused
// rather than admitted unchecked. Only the main resources ("*", no "*/*"): the control plane
// writes the status of objects that are invalid.
func webhookConfiguration(namespace string) map[string]any {
	// A yaml.Node so that the printed manifest carries the comment.
	clientConfig := func() *yaml.Node {
		var n yaml.Node
		// A mapping of strings and ints always encodes.
		_ = n.Encode(map[string]any{"service": map[string]any{
			"namespace": namespace, "name": Name, "path": WebhookPath, "port": portAPIHTTPS,
		}})
		n.Content[0].HeadComment = caBundleComment
		return &n
	}
	common := func(name string) map[string]any {
		return map[string]any{
			"name":                    name,
			"admissionReviewVersions": []any{"v1"},
			"clientConfig":            clientConfig(),
			"failurePolicy":           "Fail",
			"sideEffects":             "None",
			"timeoutSeconds":          WebhookTimeoutSeconds,
		}
	}
	kuma := common(WebhookKuma)
	kuma["rules"] = []any{map[string]any{
		"apiGroups": []any{Group}, "apiVersions": []any{Version},
		"operations": []any{"CREATE", "UPDATE"}, "resources": []any{"*"}, "scope": "*",
	}}
	secrets := common(WebhookSecrets)
	secrets["rules"] = []any{map[string]any{
		"apiGroups": []any{""}, "apiVersions": []any{"v1"},
		"operations": []any{"CREATE", "UPDATE"}, "resources": []any{"secrets"}, "scope": "Namespaced",
	}}
	secrets["namespaceSelector"] = map[string]any{
		"matchLabels": map[string]any{"kubernetes.io/metadata.name": namespace},
	}
	// Only Kuma's type reaches the webhook: the control plane's own state Secrets in the same
	// namespace are written before it serves the webhook, and must not wait for it.
	secrets["matchConditions"] = []any{map[string]any{
		"name":       "kuma-mesh-secret",
		"expression": fmt.Sprintf("has(object.type) && object.type == %q", kumaSecretType),
	}}
	return object("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "", WebhookConfigurationName,
		map[string]any{"webhooks": []any{kuma, secrets}})
}

// kumaSecretType is the type of the core Secrets Kuma reads as mesh Secrets.
const kumaSecretType = "system.kuma.io/secret"

// webhookRBAC lets the control plane watch its own webhook configuration and set its caBundle
// (by patch), and no other: list and watch with the field selector metadata.name are
// authorized against resourceNames.
func webhookRBAC() map[string]any {
	r := rule("admissionregistration.k8s.io", []string{"validatingwebhookconfigurations"}, "get", "list", "watch", "patch")
	r["resourceNames"] = []any{WebhookConfigurationName}
	return r
}
