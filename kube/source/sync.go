package source

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/kube/meta"
	"github.com/meshgate/meshgate/kube/podconv"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
)

// sync writes the cluster's current resources to the store.
func (s *Source) sync(ctx context.Context) error {
	// Read first: in a zone, the model check needs what global synced.
	snap, err := s.opts.Store.All(ctx)
	if err != nil {
		return fmt.Errorf("reading the store: %w", err)
	}
	objs, origins := s.collect()
	objs = s.dropModelErrors(objs, origins, s.zoneObjects(snap))
	defer s.report.flush(ctx)
	want := make([]store.Put, 0, len(objs))
	for _, o := range objs {
		spec, err := api.Encode(o)
		if err != nil {
			return fmt.Errorf("encoding %s: %w", o.GetMeta().DisplayName(), err)
		}
		want = append(want, store.Put{Key: recordKey(o.GetMeta()), Spec: spec, Origin: Origin})
	}
	req, _ := store.Mirror(snap.Records, want, func(rec store.Record) bool { return rec.Origin == Origin })
	if len(req.Puts) == 0 && len(req.Deletes) == 0 {
		return nil
	}
	res, err := s.opts.Store.Apply(ctx, req)
	if err != nil {
		return fmt.Errorf("writing %d resources and deleting %d: %w", len(req.Puts), len(req.Deletes), err)
	}
	s.log.Info("cluster resources written", "written", len(req.Puts), "deleted", len(req.Deletes), "revision", res.Revision)
	return nil
}

// recordKey is the store key of a resource: a Mesh is in no mesh.
func recordKey(m *api.Meta) store.Key {
	mesh := m.Mesh
	if m.Kind == api.KindMesh {
		mesh = ""
	}
	return store.Key{Kind: string(m.Kind), Mesh: mesh, Name: m.Name}
}

// collect decodes every object the informers hold. Each CRD object is decoded on its own
// (its errors reported on it); pods become Dataplanes through podconv.
func (s *Source) collect() ([]api.Object, map[string]origin) {
	var objs []api.Object
	origins := map[string]origin{}
	for _, k := range s.kinds {
		for _, item := range k.informer.GetStore().List() {
			u, ok := item.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			label := meta.ObjectLabel(k.plural, objectName(k.info, u))
			decoded, errs := decodeObject(label, u)
			decoded, refused := s.refuse(label, decoded)
			if len(refused) > 0 {
				s.report.warn(u, objKey(k.plural, u), ReasonGlobalResource, messages(refused))
				continue
			}
			s.report.crd(k.plural, u, errs)
			for _, o := range decoded {
				objs = append(objs, o)
				origins[label] = origin{crd: u, plural: k.plural}
			}
		}
	}
	for _, item := range s.secrets.GetStore().List() {
		sec, ok := item.(*corev1.Secret)
		if !ok || sec.Type != kumaSecretType {
			continue
		}
		label := meta.ObjectLabel("secrets", sec.Name+"."+sec.Namespace)
		decoded, errs := decodeSecret(label, sec)
		decoded, refused := s.refuse(label, decoded)
		if len(refused) > 0 {
			s.report.warn(sec, "Secret/"+sec.Namespace+"/"+sec.Name, ReasonGlobalResource, messages(refused))
		}
		if len(errs) > 0 {
			s.report.object(sec, "Secret", errs)
		}
		objs = append(objs, decoded...)
	}
	dps := s.dataplanes()
	for _, dp := range dps {
		origins[dp.GetMeta().Source.File] = origin{pod: s.podOf(dp.GetMeta().Name)}
	}
	return append(objs, dps...), origins
}

// origin is where a decoded object came from, so a model error can be reported on it.
type origin struct {
	crd    *unstructured.Unstructured
	plural string
	pod    *corev1.Pod
}

// podOf finds the pod a Dataplane was derived from (`<pod>.<namespace>`).
func (s *Source) podOf(dataplane string) *corev1.Pod {
	ns, name, ok := podconv.PodOf(dataplane)
	if !ok {
		return nil
	}
	p, _ := s.Pod(ns, name)
	return p
}

func objectName(info api.KindInfo, u *unstructured.Unstructured) string {
	if info.Namespaced && u.GetNamespace() != "" {
		return u.GetName() + "." + u.GetNamespace()
	}
	return u.GetName()
}

// decodeObject decodes one CRD object as `meshgate validate` decodes a file holding it.
// Fields the API server adds (managedFields, status) are dropped first: they are not the
// user's and the decoder accepts only what manifests carry.
func decodeObject(label string, u *unstructured.Unstructured) ([]api.Object, api.ErrorList) {
	c := u.DeepCopy()
	delete(c.Object, "status")
	unstructured.RemoveNestedField(c.Object, "metadata", "managedFields")
	data, err := json.Marshal(c.Object)
	if err != nil {
		return nil, api.ErrorList{{File: label, Message: "cannot encode the object: " + err.Error()}}
	}
	return withoutLines(api.Decode(label, data))
}

// withoutLines drops line numbers: they count lines of a JSON encoding nobody sees, while the
// field path says where the problem is.
func withoutLines(objs []api.Object, errs api.ErrorList) ([]api.Object, api.ErrorList) {
	for i := range errs {
		errs[i].Line = 0
	}
	return objs, errs
}

func decodeSecret(label string, sec *corev1.Secret) ([]api.Object, api.ErrorList) {
	c := sec.DeepCopy()
	c.ManagedFields = nil
	c.APIVersion, c.Kind = "v1", "Secret"
	data, err := json.Marshal(c)
	if err != nil {
		return nil, api.ErrorList{{File: label, Message: "cannot encode the Secret: " + err.Error()}}
	}
	return withoutLines(api.Decode(label, data))
}

// dataplanes converts the pods of the mesh; problems are reported on their pods.
func (s *Source) dataplanes() []api.Object {
	var req podconv.Request
	for _, item := range s.pods.GetStore().List() {
		if p, ok := item.(*corev1.Pod); ok {
			req.Pods = append(req.Pods, p)
		}
	}
	for _, item := range s.services.GetStore().List() {
		if svc, ok := item.(*corev1.Service); ok {
			req.Services = append(req.Services, svc)
		}
	}
	for _, item := range s.nss.GetStore().List() {
		if ns, ok := item.(*corev1.Namespace); ok {
			req.Namespaces = append(req.Namespaces, ns)
		}
	}
	res := podconv.Convert(req)
	s.report.podProblems(s.pods.GetStore(), res.Problems)
	out := make([]api.Object, 0, len(res.Dataplanes))
	for _, dp := range res.Dataplanes {
		if dp.Source.File == "" {
			dp.Source.File = meta.ObjectLabel("pods", dp.Name)
		}
		out = append(out, dp)
	}
	return out
}

// dropModelErrors removes the objects the model refuses (a route naming a mesh that does not
// exist, a duplicate node id) and reports why on them, so that they cost only themselves.
// Removing one can expose another's error (a Mesh removed strands its resources), hence the
// bounded repetition. fromGlobal (in a zone, what global synced) is checked with them but is
// not ours to drop.
func (s *Source) dropModelErrors(objs []api.Object, origins map[string]origin, fromGlobal []api.Object) []api.Object {
	for range 3 {
		_, errs := model.Build(append(objs[:len(objs):len(objs)], fromGlobal...))
		if len(errs) == 0 {
			return objs
		}
		bad := map[string]api.ErrorList{}
		for _, e := range errs {
			bad[e.File] = append(bad[e.File], e)
		}
		kept := objs[:0:0]
		for _, o := range objs {
			if _, isBad := bad[o.GetMeta().Source.File]; !isBad {
				kept = append(kept, o)
			}
		}
		for file, list := range bad {
			switch o := origins[file]; {
			case o.crd != nil:
				s.report.crd(o.plural, o.crd, list)
			case o.pod != nil:
				s.report.warn(o.pod, "pods/"+o.pod.Namespace+"/"+o.pod.Name, ReasonInvalid, messages(list))
			default:
				s.log.Warn("resource refused by the model", "object", file, "errors", list.Error())
			}
		}
		if len(kept) == len(objs) {
			// Errors that name no object of ours: nothing to drop; keep serving what we have.
			s.log.Warn("model errors that name no object", "errors", errs.Error())
			return objs
		}
		objs = kept
	}
	return objs
}
