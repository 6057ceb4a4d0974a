package gatewayinstance

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/kube/meta"
)

// instance is a decoded MeshGatewayInstance with what the controller derives from it.
type instance struct {
	Namespace, Name string
	Mesh            string
	// Tags are spec.tags with Kuma's default kuma.io/service added when missing.
	Tags map[string]string
	Spec api.MeshGatewayInstanceSpec
}

// decodeInstance runs a MeshGatewayInstance through api.Decode, so it is validated exactly as
// `meshgate validate` validates the same manifest. A missing kuma.io/service tag gets Kuma 2.7's
// default `<name>_<namespace>_svc` first: Kuma serves such instances, and meshgate's validation
// (which requires the tag) then sees what the gateway pods will actually carry.
func decodeInstance(u *unstructured.Unstructured) (*instance, api.ErrorList) {
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	if spec == nil {
		spec = map[string]any{}
	}
	tags, _, _ := unstructured.NestedMap(spec, "tags")
	if tags == nil {
		tags = map[string]any{}
	}
	if _, ok := tags[meta.ServiceTag]; !ok {
		tags[meta.ServiceTag] = defaultService(u.GetName(), u.GetNamespace())
	}
	spec["tags"] = tags
	objs, errs := decode(u, spec)
	if len(errs) > 0 {
		return nil, errs
	}
	gi, ok := objs[0].(*api.MeshGatewayInstance)
	if !ok || len(objs) != 1 {
		return nil, api.ErrorList{{Message: fmt.Sprintf("decoded as %T, not a MeshGatewayInstance", objs[0])}}
	}
	mesh := u.GetLabels()[meta.MeshAnnotation]
	if mesh == "" {
		mesh = meta.DefaultMesh
	}
	return &instance{
		Namespace: u.GetNamespace(), Name: u.GetName(), Mesh: mesh,
		Tags: gi.Spec.Tags, Spec: gi.Spec,
	}, nil
}

// defaultService is the kuma.io/service Kuma 2.7+ gives an instance whose tags name none.
func defaultService(name, namespace string) string {
	return name + "_" + namespace + "_svc"
}

// decodeGateway runs a MeshGateway through api.Decode; invalid ones are not served by the
// control plane either, so they match no instance.
func decodeGateway(u *unstructured.Unstructured) (*api.MeshGateway, api.ErrorList) {
	spec, _, _ := unstructured.NestedMap(u.Object, "spec")
	objs, errs := decode(u, spec)
	if len(errs) > 0 {
		return nil, errs
	}
	gw, ok := objs[0].(*api.MeshGateway)
	if !ok || len(objs) != 1 {
		return nil, api.ErrorList{{Message: fmt.Sprintf("decoded as %T, not a MeshGateway", objs[0])}}
	}
	return gw, nil
}

// decode hands api.Decode the manifest as a user wrote it: the server's bookkeeping (status,
// managedFields, uid, ...) is left out, as the decoder reads manifests, not API responses.
func decode(u *unstructured.Unstructured, spec map[string]any) ([]api.Object, api.ErrorList) {
	md := map[string]any{"name": u.GetName()}
	if ns := u.GetNamespace(); ns != "" {
		md["namespace"] = ns
	}
	if l := u.GetLabels(); len(l) > 0 {
		md["labels"] = l
	}
	doc := map[string]any{
		"apiVersion": u.GetAPIVersion(),
		"kind":       u.GetKind(),
		"metadata":   md,
	}
	if spec != nil {
		doc["spec"] = spec
	}
	if mesh, ok := u.Object["mesh"]; ok {
		doc["mesh"] = mesh
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, api.ErrorList{{Message: "cannot encode the object for decoding: " + err.Error()}}
	}
	objs, errs := api.Decode("", data)
	if len(errs) == 0 && len(objs) == 0 {
		errs = api.ErrorList{{Message: "decoded to nothing"}}
	}
	return objs, errs
}

// errorsMessage is a decode error list as one status message, without the meaningless
// file and line of the re-encoded document.
func errorsMessage(errs api.ErrorList) string {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		e.Line = 0
		msgs[i] = e.Unlocated()
	}
	return strings.Join(msgs, "; ")
}

// tagsString prints tags as sorted JSON-like `{k: v, ...}` for messages.
func tagsString(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + tags[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
