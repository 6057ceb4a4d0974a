package v1alpha1

import (
	"encoding/base64"

	"gopkg.in/yaml.v3"
)

const (
	kumaAPIVersion = "kuma.io/v1alpha1"
	// kumaSecretType is the Kubernetes Secret type Kuma reads as a mesh-scoped Secret.
	kumaSecretType = "system.kuma.io/secret"
)

// k8sObjectMeta is the part of Kubernetes ObjectMeta a manifest or `kubectl get -o yaml` output
// may carry. Fields meshgate has no use for are accepted so such output loads unchanged.
type k8sObjectMeta struct {
	Name                       string            `json:"name"`
	GenerateName               string            `json:"generateName"`
	Namespace                  string            `json:"namespace"`
	SelfLink                   string            `json:"selfLink"`
	UID                        string            `json:"uid"`
	ResourceVersion            string            `json:"resourceVersion"`
	Generation                 int64             `json:"generation"`
	CreationTimestamp          string            `json:"creationTimestamp"`
	DeletionTimestamp          string            `json:"deletionTimestamp"`
	DeletionGracePeriodSeconds *int64            `json:"deletionGracePeriodSeconds"`
	Labels                     map[string]string `json:"labels"`
	Annotations                map[string]string `json:"annotations"`
	OwnerReferences            []any             `json:"ownerReferences"`
	Finalizers                 []string          `json:"finalizers"`
	ManagedFields              []any             `json:"managedFields"`
}

// kubernetes decodes the Kubernetes form: `apiVersion`, `kind`, `metadata`, the body under
// `spec`, and the mesh either at the top level (as Kuma's CRDs have it) or as the
// `kuma.io/mesh` label. `v1` Secrets and Lists are accepted too.
func (d *docDecoder) kubernetes(budget *aliasBudget) []decoded {
	d.kube = true
	apiVersion, ok := d.requiredString("apiVersion")
	kind, ok2 := d.requiredString("kind")
	if !ok || !ok2 {
		return []decoded{{errs: d.w.errs}}
	}
	switch {
	case apiVersion == "v1" && kind == "List":
		return d.list(budget)
	case apiVersion == "v1" && kind == "Secret":
		return []decoded{d.k8sSecret()}
	}
	info, ok := LookupKind(Kind(kind))
	if !ok {
		return []decoded{d.unknownKind(d.top["kind"], "kind", kind)}
	}
	if apiVersion != kumaAPIVersion {
		d.w.errorf(d.top["apiVersion"].value, "apiVersion", "must be %q for kind %s", kumaAPIVersion, kind)
	}
	m := d.start(info)
	var mesh string
	meshLine := 0
	for _, k := range d.order {
		p := d.top[k]
		switch {
		case k == "apiVersion" || k == "kind":
		case k == "metadata":
			d.k8sMeta(p, info)
		case k == "mesh" && !info.Global && !info.KubernetesOnly:
			// Kubernetes-only kinds take the mesh from the label, as Kuma's CRDs for them have
			// no top-level mesh: the API server would drop it.
			mesh = d.headerString(p, k)
			meshLine = p.key.Line
		case k == "mesh" && info.KubernetesOnly:
			d.w.errorf(p.key, "mesh", "%s has no top-level mesh: set the %s label", kind, MeshTag)
		case k == "spec":
			d.k8sSpec(p)
		default:
			d.w.errorf(p.key, "", "unknown field %q", k)
		}
	}
	if mesh != "" {
		if label := m.Labels[MeshTag]; label != "" && label != mesh {
			d.w.errs = append(d.w.errs, FieldError{File: d.file, Line: meshLine, Field: "mesh",
				Message: "does not match the " + MeshTag + " label (" + label + ")"})
		}
		m.Mesh = mesh
		d.w.record("mesh", meshLine)
	}
	return []decoded{d.finish(info)}
}

// k8sMeta reads metadata into Meta. Namespaced kinds get Kuma's `<name>.<namespace>` name.
func (d *docDecoder) k8sMeta(p pair, info KindInfo) {
	if n := d.w.deref(p.value, "metadata"); n != nil && n.Kind != yaml.MappingNode && !isNull(n) {
		d.w.errorf(n, "metadata", "must be a mapping")
		return
	}
	var km k8sObjectMeta
	lines := d.decodeHeader(p, &km, "metadata")
	m := d.obj.GetMeta()
	m.Name = km.Name
	if info.Namespaced && km.Name != "" && km.Namespace != "" {
		m.Name = km.Name + "." + km.Namespace
	}
	if l, ok := lines["metadata.name"]; ok {
		d.w.record("name", l)
	}
	m.Labels = km.Labels
	m.CreationTime = d.parseTime(km.CreationTimestamp, lines["metadata.creationTimestamp"], "metadata.creationTimestamp")
	labelPath := joinKey("metadata.labels", MeshTag)
	if mesh := km.Labels[MeshTag]; mesh != "" && !info.Global {
		m.Mesh = mesh
		d.w.record("mesh", lines[labelPath])
	}
}

func (d *docDecoder) k8sSpec(p pair) {
	if n := d.w.deref(p.value, "spec"); n != nil && n.Kind != yaml.MappingNode && !isNull(n) {
		d.w.errorf(n, "spec", "must be a mapping")
		return
	}
	spec, _ := specOf(d.obj)
	d.w.decodePair(p, spec, "")
}

type k8sSecretData struct {
	Value string `json:"value"`
}

// k8sSecret decodes a Kubernetes Secret of Kuma's mesh-scoped type: its `data.value` (base64)
// is the Secret's data, exactly as Kuma reads it.
func (d *docDecoder) k8sSecret() decoded {
	info, _ := LookupKind(KindSecret)
	d.start(info)
	secret := d.obj.(*Secret)
	typ := ""
	for _, k := range d.order {
		p := d.top[k]
		switch k {
		case "apiVersion", "kind":
		case "metadata":
			d.k8sMeta(p, info)
		case "type":
			typ = d.headerString(p, k)
			if typ != kumaSecretType {
				d.w.errorf(p.value, k, "must be %q: meshgate reads only Kuma mesh secrets", kumaSecretType)
			}
		case "data", "stringData":
			var data k8sSecretData
			lines := d.decodeHeader(p, &data, k)
			if l, ok := lines[k+".value"]; ok {
				d.w.record("data", l)
			}
			if k == "stringData" {
				data.Value = base64.StdEncoding.EncodeToString([]byte(data.Value))
			}
			if data.Value != "" || secret.Spec.Data == "" {
				secret.Spec.Data = data.Value
			}
		case "immutable":
			var b bool
			d.decodeHeader(p, &b, k)
		default:
			d.w.errorf(p.key, "", "unknown field %q", k)
		}
	}
	if _, ok := d.top["type"]; !ok {
		d.errorAt("type", "must be \""+kumaSecretType+"\": meshgate reads only Kuma mesh secrets")
	}
	return d.finish(info)
}

// list decodes `kind: List` (what `kubectl get -o yaml` prints for several objects): each item
// is a resource of its own.
func (d *docDecoder) list(budget *aliasBudget) []decoded {
	var out []decoded
	for _, k := range d.order {
		p := d.top[k]
		switch k {
		case "apiVersion", "kind":
		case "metadata":
			var ignored map[string]any
			d.decodeHeader(p, &ignored, k)
		case "items":
			n := d.w.deref(p.value, k)
			if n == nil || isNull(n) {
				continue
			}
			if n.Kind != yaml.SequenceNode {
				d.w.errorf(n, k, "must be a list")
				continue
			}
			for _, item := range n.Content {
				out = append(out, decodeResource(d.file, item, budget)...)
			}
		default:
			d.w.errorf(p.key, "", "unknown field %q", k)
		}
	}
	if len(d.w.errs) > 0 {
		out = append(out, decoded{errs: d.w.errs})
	}
	return out
}
