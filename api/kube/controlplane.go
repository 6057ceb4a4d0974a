package kube

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/meshgate/meshgate/api/rest/wire"
)

// ControlPlaneOptions are what `meshgate install control-plane` asks for.
type ControlPlaneOptions struct {
	// Namespace holds meshgate's Deployment, Service, ServiceAccount and its own state (Secrets).
	Namespace string
	// Image is the meshgate image the Deployment runs.
	Image string
	// AdminTokenSecret names the Secret (key `token`) holding the API's admin token, which the
	// HTTPS API needs to listen beyond loopback.
	AdminTokenSecret string
}

// The control plane's ports (DESIGN.md "Ports").
const (
	portXDS      = 5678
	portAPIHTTP  = 5681
	portDiag     = 5680
	portAPIHTTPS = 5682
	portDNS      = 5653
)

// Name is the name of the control plane's Deployment, Service, ServiceAccount and RBAC objects.
const Name = "meshgate"

var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func (o ControlPlaneOptions) validate() error {
	var errs []error
	if len(o.Namespace) > 63 || !dns1123Label.MatchString(o.Namespace) {
		errs = append(errs, fmt.Errorf("namespace %q: must be a DNS label (lowercase letters, digits, '-')", o.Namespace))
	}
	if o.Image == "" {
		errs = append(errs, errors.New("image: cannot be empty"))
	}
	if len(o.AdminTokenSecret) > 253 || !dnsLabels.MatchString(o.AdminTokenSecret) {
		errs = append(errs, fmt.Errorf("admin token secret %q: must be a DNS subdomain", o.AdminTokenSecret))
	}
	return errors.Join(errs...)
}

var dnsLabels = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// ControlPlane returns every object needed to run meshgate in a cluster, in the order
// `kubectl apply` needs them: the CRDs, the namespace, the ServiceAccount, RBAC, the Deployment,
// the Service and the ValidatingWebhookConfiguration. The webhooks' clientConfig is a *yaml.Node
// (for a comment in the printed YAML): encode the objects with WriteDocuments, not
// encoding/json.
func ControlPlane(o ControlPlaneOptions) ([]map[string]any, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	objs := CRDs()
	objs = append(objs,
		object("v1", "Namespace", "", o.Namespace, nil),
		object("v1", "ServiceAccount", o.Namespace, Name, nil),
		clusterRole(),
		binding("ClusterRoleBinding", "ClusterRole", "", o.Namespace),
		namespaceRole(o.Namespace),
		binding("RoleBinding", "Role", o.Namespace, o.Namespace),
		deployment(o),
		service(o.Namespace),
		webhookConfiguration(o.Namespace),
	)
	return objs, nil
}

func labels() map[string]any {
	return map[string]any{"app.kubernetes.io/name": Name, "app.kubernetes.io/component": "control-plane"}
}

func object(apiVersion, kind, namespace, name string, body map[string]any) map[string]any {
	meta := map[string]any{"name": name, "labels": labels()}
	if namespace != "" {
		meta["namespace"] = namespace
	}
	obj := map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": meta}
	for k, v := range body {
		obj[k] = v
	}
	return obj
}

func rule(group string, resources []string, verbs ...string) map[string]any {
	return map[string]any{"apiGroups": []any{group}, "resources": toAny(resources), "verbs": toAny(verbs)}
}

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}
)

// clusterRole grants what meshgate does across the cluster: read Kuma's resources and write
// their status (validation conditions) and the Dataplanes it derives from pods; read pods,
// services and namespaces; own the Deployments and Services of MeshGatewayInstances; record
// Events; check dataplanes' ServiceAccount tokens; set the caBundle of its webhook configuration.
func clusterRole() map[string]any {
	var kuma, status []string
	for _, k := range CRDKinds() {
		kuma = append(kuma, wire.Plural(k))
		status = append(status, wire.Plural(k)+"/status")
	}
	rules := []any{
		rule(Group, kuma, readVerbs...),
		rule(Group, status, "get", "update", "patch"),
		rule(Group, []string{"dataplanes"}, writeVerbs...),
		// Owner references that block deletion (an instance's Deployment and Service) need
		// this where the OwnerReferencesPermissionEnforcement admission plugin is on.
		rule(Group, []string{"meshgatewayinstances/finalizers"}, "update"),
		rule("", []string{"pods", "namespaces"}, readVerbs...),
		rule("", []string{"services"}, writeVerbs...),
		rule("apps", []string{"deployments"}, writeVerbs...),
		rule("", []string{"events"}, "create", "patch"),
		rule("events.k8s.io", []string{"events"}, "create", "patch"),
		rule("authentication.k8s.io", []string{"tokenreviews"}, "create"),
		webhookRBAC(),
	}
	return object("rbac.authorization.k8s.io/v1", "ClusterRole", "", Name, map[string]any{"rules": rules})
}

// namespaceRole limits meshgate's own state (CA keys, VIPs, token keys in Secrets) and its
// replicas' leases to its namespace: no cluster-wide access to Secrets.
func namespaceRole(namespace string) map[string]any {
	rules := []any{
		rule("", []string{"secrets"}, writeVerbs...),
		rule("coordination.k8s.io", []string{"leases"}, writeVerbs...),
	}
	return object("rbac.authorization.k8s.io/v1", "Role", namespace, Name, map[string]any{"rules": rules})
}

func binding(kind, roleKind, namespace, saNamespace string) map[string]any {
	return object("rbac.authorization.k8s.io/v1", kind, namespace, Name, map[string]any{
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": roleKind, "name": Name},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": Name, "namespace": saNamespace}},
	})
}

func containerPort(name string, port int, protocol string) map[string]any {
	return map[string]any{"name": name, "containerPort": port, "protocol": protocol}
}

func deployment(o ControlPlaneOptions) map[string]any {
	svc := Name + "." + o.Namespace + ".svc"
	args := []any{
		"run",
		"--environment=kubernetes",
		"--kube-namespace=" + o.Namespace,
		// The MeshGatewayInstance controller's gateway pods run `meshgate dataplane` from the
		// same image.
		"--gateway-image=" + o.Image,
		// Its caBundle is unset until the control plane sets it to its CA.
		"--webhook-configuration=" + WebhookConfigurationName,
		fmt.Sprintf("--xds-address=:%d", portXDS),
		fmt.Sprintf("--api-address=127.0.0.1:%d", portAPIHTTP),
		fmt.Sprintf("--api-tls-address=:%d", portAPIHTTPS),
		fmt.Sprintf("--diag-address=:%d", portDiag),
		fmt.Sprintf("--dns-address=:%d", portDNS),
		"--xds-tls-san=" + svc,
		"--xds-tls-san=" + svc + ".cluster.local",
		"--data-dir=/var/lib/meshgate",
		"--log-format=json",
	}
	probe := func(path string) map[string]any {
		return map[string]any{"httpGet": map[string]any{"path": path, "port": "diag"}, "periodSeconds": 10}
	}
	container := map[string]any{
		"name":  Name,
		"image": o.Image,
		"args":  args,
		"env": []any{map[string]any{
			"name": "MESHGATE_ADMIN_TOKEN",
			"valueFrom": map[string]any{"secretKeyRef": map[string]any{
				"name": o.AdminTokenSecret, "key": "token"}},
		}},
		"ports": []any{
			containerPort("xds", portXDS, "TCP"),
			containerPort("https-api", portAPIHTTPS, "TCP"),
			containerPort("diag", portDiag, "TCP"),
			containerPort("dns-udp", portDNS, "UDP"),
			containerPort("dns-tcp", portDNS, "TCP"),
		},
		"readinessProbe": probe("/ready"),
		"livenessProbe":  probe("/healthz"),
		"securityContext": map[string]any{
			"runAsNonRoot":             true,
			"readOnlyRootFilesystem":   true,
			"allowPrivilegeEscalation": false,
			"capabilities":             map[string]any{"drop": []any{"ALL"}},
		},
		"volumeMounts": []any{map[string]any{"name": "data", "mountPath": "/var/lib/meshgate"}},
	}
	pod := map[string]any{
		"metadata": map[string]any{"labels": labels()},
		"spec": map[string]any{
			"serviceAccountName": Name,
			"containers":         []any{container},
			"volumes":            []any{map[string]any{"name": "data", "emptyDir": map[string]any{}}},
		},
	}
	return object("apps/v1", "Deployment", o.Namespace, Name, map[string]any{"spec": map[string]any{
		"replicas": 1,
		"selector": map[string]any{"matchLabels": labels()},
		"template": pod,
	}})
}

func servicePort(name string, port int, protocol string) map[string]any {
	return map[string]any{"name": name, "port": port, "targetPort": port, "protocol": protocol}
}

func service(namespace string) map[string]any {
	return object("v1", "Service", namespace, Name, map[string]any{"spec": map[string]any{
		"type":     "ClusterIP",
		"selector": labels(),
		"ports": []any{
			servicePort("xds", portXDS, "TCP"),
			servicePort("https-api", portAPIHTTPS, "TCP"),
			servicePort("diag", portDiag, "TCP"),
			servicePort("dns-udp", portDNS, "UDP"),
			servicePort("dns-tcp", portDNS, "TCP"),
		},
	}})
}
