package gatewayinstance

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ConditionReady is the instance's one condition.
const ConditionReady = "Ready"

// Reasons of the Ready condition.
const (
	// ReasonReady: the Deployment and Service exist as the instance asks. Pods being available
	// is not part of it: that needs a kubelet, which meshgate's tests do not have, and
	// Deployment status already says it.
	ReasonReady = "Ready"
	// ReasonNoMeshGateway: no valid MeshGateway in the instance's mesh selects its tags.
	ReasonNoMeshGateway = "NoMeshGateway"
	// ReasonInvalid: the instance does not decode or validate (the message has the errors).
	ReasonInvalid = "Invalid"
	// ReasonError: creating or updating the Deployment or Service failed.
	ReasonError = "Error"
)

// condition is the Ready condition the controller wants on an instance.
type condition struct {
	Status  metav1.ConditionStatus
	Reason  string
	Message string
}

// writeStatus sets the Ready condition and observedGeneration through the status subresource.
// Nothing is written when both are already there, so a resync costs no write, and our own
// status update (which comes back as an informer update) settles at once. lastTransitionTime
// changes only when the condition's status does, as Kubernetes' conventions say. A Warning
// Event goes with each new reason or message of a False condition.
func (c *Controller) writeStatus(ctx context.Context, u *unstructured.Unstructured, want condition) error {
	gen := u.GetGeneration()
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	idx := -1
	var old map[string]any
	for i, x := range conds {
		if m, ok := x.(map[string]any); ok && m["type"] == ConditionReady {
			idx, old = i, m
		}
	}
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if old != nil && old["status"] == string(want.Status) && old["reason"] == want.Reason &&
		old["message"] == want.Message && old["observedGeneration"] == gen && observed == gen {
		return nil
	}
	transition := metav1.Now().UTC().Format(time.RFC3339)
	if old != nil && old["status"] == string(want.Status) {
		if t, ok := old["lastTransitionTime"].(string); ok && t != "" {
			transition = t
		}
	}
	cond := map[string]any{
		"type":               ConditionReady,
		"status":             string(want.Status),
		"reason":             want.Reason,
		"message":            want.Message,
		"observedGeneration": gen,
		"lastTransitionTime": transition,
	}
	// Other conditions (the control plane's validation condition) are someone else's: kept.
	if idx >= 0 {
		conds[idx] = cond
	} else {
		conds = append(conds, cond)
	}
	upd := u.DeepCopy()
	if err := unstructured.SetNestedSlice(upd.Object, conds, "status", "conditions"); err != nil {
		return fmt.Errorf("set the status of MeshGatewayInstance %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	if err := unstructured.SetNestedField(upd.Object, gen, "status", "observedGeneration"); err != nil {
		return fmt.Errorf("set the status of MeshGatewayInstance %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	_, err := c.opts.Dynamic.Resource(InstanceGVR).Namespace(u.GetNamespace()).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update the status of MeshGatewayInstance %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	if want.Status != metav1.ConditionTrue && (old == nil || old["reason"] != want.Reason || old["message"] != want.Message) {
		c.recorder.Event(u, corev1.EventTypeWarning, want.Reason, want.Message)
	}
	return nil
}
