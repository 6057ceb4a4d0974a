package kube

import (
	"strings"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

const (
	// Group and Version are Kuma's: manifests written for Kuma apply unchanged.
	Group   = "kuma.io"
	Version = "v1alpha1"
)

// shortNames are the ones Kuma's CRDs declare (deployments/charts/kuma/crds); the other kinds
// have none there, and inventing some could clash with Kuma's later choices.
var shortNames = map[api.Kind][]string{
	api.KindMesh:        {"m"},
	api.KindMeshGateway: {"mgw"},
	api.KindDataplane:   {"dpp"},
}

// CRDKinds lists the kinds that are custom resources on Kubernetes: every registered kind but
// Secret, which Kuma keeps in core `v1` Secrets of type system.kuma.io/secret.
func CRDKinds() []api.Kind {
	var out []api.Kind
	for _, k := range api.AllKinds() {
		if k != api.KindSecret {
			out = append(out, k)
		}
	}
	return out
}

// CRDs returns one apiextensions.k8s.io/v1 CustomResourceDefinition per CRDKinds kind, in kind
// order.
func CRDs() []map[string]any {
	kinds := CRDKinds()
	out := make([]map[string]any, 0, len(kinds))
	for _, k := range kinds {
		info, _ := api.LookupKind(k)
		out = append(out, crdFor(info))
	}
	return out
}

func crdFor(info api.KindInfo) map[string]any {
	plural := wire.Plural(info.Kind)
	names := map[string]any{
		"kind":       string(info.Kind),
		"listKind":   string(info.Kind) + "List",
		"plural":     plural,
		"singular":   strings.ToLower(string(info.Kind)),
		"categories": []any{"kuma"},
	}
	if sn := shortNames[info.Kind]; len(sn) > 0 {
		names["shortNames"] = toAny(sn)
	}
	scope := "Cluster"
	if info.Namespaced {
		scope = "Namespaced"
	}
	props := Schema{
		"apiVersion": Schema{"type": "string"},
		"kind":       Schema{"type": "string"},
		"metadata":   Schema{"type": "object"},
		"spec":       SpecSchema(info),
		// Status is written by meshgate (validation conditions, the instance controller's
		// Ready condition); its shape is meshgate's, so the API server keeps it as written.
		"status": Schema{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
	}
	// Kuma's mesh-scoped CRDs carry the mesh at the top level; Mesh has none, and a
	// MeshGatewayInstance takes its mesh from the kuma.io/mesh label, as in Kuma.
	if !info.Global && !info.KubernetesOnly {
		props["mesh"] = Schema{"type": "string"}
	}
	version := map[string]any{
		"name":         Version,
		"served":       true,
		"storage":      true,
		"schema":       map[string]any{"openAPIV3Schema": Schema{"type": "object", "properties": props}},
		"subresources": map[string]any{"status": map[string]any{}},
	}
	return map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": plural + "." + Group},
		"spec": map[string]any{
			"group":    Group,
			"names":    names,
			"scope":    scope,
			"versions": []any{version},
		},
	}
}

// SpecSchema is the schema of a kind's `spec`: its Go Spec type, as the decoder reads it.
func SpecSchema(info api.KindInfo) Schema {
	obj := info.New()
	return SchemaFor(specType(obj))
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
