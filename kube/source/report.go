package source

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/meshgate/meshgate/api/kube"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/kube/podconv"
)

// ConditionValid is the status condition meshgate keeps on a Kuma object it found invalid:
// False with the same messages `meshgate validate` prints, back to True once fixed. Valid
// objects that were never invalid get no status write: at thousands of objects that would be
// thousands of writes for nothing.
const ConditionValid = "Valid"

// ReasonInvalid is the reason of a False Valid condition and of the Warning Event.
const ReasonInvalid = "InvalidResource"

const maxWarned = 50000

// reporter turns problems into status conditions and Events. A sync collects what every
// object's state should be (begin, crd...), then flush writes only what changed.
type reporter struct {
	dyn      dynamic.Interface
	log      *slog.Logger
	recorder record.EventRecorder
	bcast    record.EventBroadcaster

	mu      sync.Mutex
	pending map[string]pendingCRD
	// warned remembers the last problem reported per object, so a problem that persists is
	// one Event, not one per sync.
	warned map[string]string
}

type pendingCRD struct {
	plural string
	obj    *unstructured.Unstructured
	errs   api.ErrorList
}

func newReporter(client kubernetes.Interface, dyn dynamic.Interface, log *slog.Logger) *reporter {
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	return &reporter{
		dyn: dyn, log: log, bcast: b,
		recorder: b.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "meshgate"}),
		pending:  map[string]pendingCRD{}, warned: map[string]string{},
	}
}

func (r *reporter) close() { r.bcast.Shutdown() }

func objKey(plural string, o metav1.Object) string {
	return plural + "/" + o.GetNamespace() + "/" + o.GetName()
}

// crd records the problems of one CRD object for this sync (none: valid); later calls add.
func (r *reporter) crd(plural string, u *unstructured.Unstructured, errs api.ErrorList) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := objKey(plural, u)
	p := r.pending[k]
	p.plural, p.obj = plural, u
	p.errs = append(p.errs, errs...)
	r.pending[k] = p
}

// object reports problems of an object that has no status of ours (a Secret).
func (r *reporter) object(obj runtime.Object, kind string, errs api.ErrorList) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	r.warn(obj, kind+"/"+m.GetNamespace()+"/"+m.GetName(), ReasonInvalid, messages(errs))
}

func (r *reporter) podProblems(pods cache.Store, problems []podconv.Problem) {
	for _, p := range problems {
		item, ok, _ := pods.GetByKey(p.Namespace + "/" + p.Name)
		if !ok {
			continue
		}
		pod, ok := item.(*corev1.Pod)
		if !ok {
			continue
		}
		r.warn(pod, "pods/"+p.Namespace+"/"+p.Name, p.Reason, p.Message)
	}
}

func (r *reporter) warn(obj runtime.Object, key, reason, msg string) {
	r.mu.Lock()
	seen := r.warned[key] == msg
	if len(r.warned) > maxWarned {
		clear(r.warned) // bounded: objects come and go; at worst a problem is reported again
	}
	r.warned[key] = msg
	r.mu.Unlock()
	if seen {
		return
	}
	r.log.Warn("invalid Kubernetes object ignored", "object", key, "reason", reason, "problem", msg)
	r.recorder.Event(obj, corev1.EventTypeWarning, reason, msg)
}

func messages(errs api.ErrorList) string {
	lines := make([]string, 0, len(errs))
	for _, e := range errs {
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

// flush writes the conditions that changed since the objects were last written.
func (r *reporter) flush(ctx context.Context) {
	r.mu.Lock()
	pending := r.pending
	r.pending = map[string]pendingCRD{}
	r.mu.Unlock()
	for k, p := range pending {
		want := ""
		if len(p.errs) > 0 {
			p.errs.Sort()
			want = messages(dedupe(p.errs))
		}
		if err := r.setCondition(ctx, p, want); err != nil {
			r.log.Warn("cannot write the status of a Kuma object", "object", k, "error", err)
		}
		if want != "" {
			r.warn(p.obj, k, ReasonInvalid, want)
		} else {
			r.mu.Lock()
			delete(r.warned, k)
			r.mu.Unlock()
		}
	}
}

func dedupe(errs api.ErrorList) api.ErrorList {
	out := errs[:0:0]
	seen := map[string]bool{}
	for _, e := range errs {
		if s := e.Error(); !seen[s] {
			seen[s] = true
			out = append(out, e)
		}
	}
	return out
}

// setCondition writes the Valid condition when it differs from the object's: invalid is
// "False" with the messages, valid is "True" only for an object that has the condition.
func (r *reporter) setCondition(ctx context.Context, p pendingCRD, problems string) error {
	conds, _, _ := unstructured.NestedSlice(p.obj.Object, "status", "conditions")
	idx, cur := -1, map[string]any(nil)
	for i, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == ConditionValid {
			idx, cur = i, m
		}
	}
	status, reason, msg := "True", "Valid", "meshgate accepted the resource"
	if problems != "" {
		status, reason, msg = "False", ReasonInvalid, problems
	}
	if cur == nil && problems == "" {
		return nil
	}
	gen := p.obj.GetGeneration()
	if cur != nil && cur["status"] == status && cur["message"] == msg && cur["observedGeneration"] == gen {
		return nil
	}
	cond := map[string]any{
		"type": ConditionValid, "status": status, "reason": reason, "message": msg,
		"observedGeneration": gen, "lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	}
	if cur != nil && cur["status"] == status {
		cond["lastTransitionTime"] = cur["lastTransitionTime"]
	}
	if idx >= 0 {
		conds[idx] = cond
	} else {
		conds = append(conds, cond)
	}
	c := p.obj.DeepCopy()
	if err := unstructured.SetNestedSlice(c.Object, conds, "status", "conditions"); err != nil {
		return err
	}
	gvr := schema.GroupVersionResource{Group: kube.Group, Version: kube.Version, Resource: p.plural}
	var ri dynamic.ResourceInterface = r.dyn.Resource(gvr)
	if ns := c.GetNamespace(); ns != "" {
		ri = r.dyn.Resource(gvr).Namespace(ns)
	}
	_, err := ri.UpdateStatus(ctx, c, metav1.UpdateOptions{FieldManager: "meshgate"})
	return err
}
