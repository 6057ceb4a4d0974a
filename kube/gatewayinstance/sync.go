package gatewayinstance

import (
	"context"
	"errors"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/kube/meta"
)

// sync reconciles one instance key (`namespace/name`).
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key we queued; retrying cannot help
	}
	obj, exists, err := c.instances.GetIndexer().GetByKey(key)
	if err != nil {
		return fmt.Errorf("read MeshGatewayInstance %s from the cache: %w", key, err)
	}
	if !exists {
		return c.deleteOrphans(ctx, ns, name)
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return fmt.Errorf("MeshGatewayInstance %s: unexpected cache object %T", key, obj)
	}
	if u.GetDeletionTimestamp() != nil {
		// Being deleted (a finalizer holds it): its owned objects go with it.
		return nil
	}
	cond, err := c.reconcile(ctx, u)
	if serr := c.writeStatus(ctx, u, cond); serr != nil {
		err = errors.Join(err, serr)
	}
	return err
}

// reconcile makes the Deployment and Service match the instance and returns the Ready
// condition to report. An error (returned too, so the key is retried) is reported as
// ReasonError.
//
// Without a matching MeshGateway, or while the instance is invalid, an existing Deployment and
// Service are kept: a MeshGateway being replaced or a bad edit must not delete a LoadBalancer
// and lose its external address. Only deleting the instance removes them.
func (c *Controller) reconcile(ctx context.Context, u *unstructured.Unstructured) (condition, error) {
	inst, errs := decodeInstance(u)
	if len(errs) > 0 {
		return condition{Status: metav1.ConditionFalse, Reason: ReasonInvalid, Message: errorsMessage(errs)}, nil
	}
	gw := matchGateway(c.validGateways(), inst.Mesh, inst.Tags)
	if gw == nil {
		return condition{Status: metav1.ConditionFalse, Reason: ReasonNoMeshGateway, Message: fmt.Sprintf(
			"waiting for a MeshGateway in mesh %q with a selector matching the tags %s", inst.Mesh, tagsString(inst.Tags))}, nil
	}
	ports := listenerPorts(gw)
	o := owner{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Name: u.GetName(), UID: u.GetUID()}
	fail := func(err error) (condition, error) {
		return condition{Status: metav1.ConditionFalse, Reason: ReasonError, Message: err.Error()}, err
	}
	dep, err := c.deploymentFor(inst, o, ports)
	if err != nil {
		return fail(err)
	}
	if err := c.applyDeployment(ctx, dep); err != nil {
		return fail(err)
	}
	if err := c.applyService(ctx, serviceFor(inst, o, ports)); err != nil {
		return fail(err)
	}
	return condition{Status: metav1.ConditionTrue, Reason: ReasonReady, Message: fmt.Sprintf(
		"Deployment and Service %s/%s serve MeshGateway %s (ports %s)", inst.Namespace, inst.Name, gw.Name, portsString(ports))}, nil
}

// validGateways decodes every MeshGateway in the cache; invalid ones are skipped, as the
// control plane does not serve them either.
func (c *Controller) validGateways() []*api.MeshGateway {
	if c.opts.Gateways != nil {
		return c.opts.Gateways.Gateways()
	}
	var out []*api.MeshGateway
	for _, obj := range c.gateways.GetStore().List() {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			continue
		}
		gw, errs := decodeGateway(u)
		if len(errs) > 0 {
			c.log.Debug("ignoring invalid MeshGateway", "name", u.GetName(), "errors", errorsMessage(errs))
			continue
		}
		out = append(out, gw)
	}
	return out
}

func portsString(ports []listenerPort) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = fmt.Sprint(p.Port)
	}
	sort.Strings(s)
	return fmt.Sprint(s)
}

// deleteOrphans deletes the managed Deployments and Services of an instance that no longer
// exists. Kubernetes' garbage collector does the same through the owner references; doing it
// here too covers clusters (and test servers) without one. The instance's absence is checked
// against the API server, not just the cache, so a lagging cache cannot delete live gateways.
func (c *Controller) deleteOrphans(ctx context.Context, ns, name string) error {
	sel := labels.SelectorFromSet(labels.Set{meta.ManagedByLabel: meta.ManagedByValue, meta.InstanceLabel: name})
	var deps, svcs []metav1.Object
	for _, obj := range c.deployments.GetStore().List() {
		if m, ok := obj.(metav1.Object); ok && m.GetNamespace() == ns && sel.Matches(labels.Set(m.GetLabels())) {
			deps = append(deps, m)
		}
	}
	for _, obj := range c.services.GetStore().List() {
		if m, ok := obj.(metav1.Object); ok && m.GetNamespace() == ns && sel.Matches(labels.Set(m.GetLabels())) {
			svcs = append(svcs, m)
		}
	}
	if len(deps)+len(svcs) == 0 {
		return nil
	}
	_, err := c.opts.Dynamic.Resource(InstanceGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		return nil // the cache is behind; its add event will queue the instance again
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("check whether MeshGatewayInstance %s/%s still exists: %w", ns, name, err)
	}
	var errs []error
	for _, m := range deps {
		errs = append(errs, c.deleteManaged(ctx, "Deployment", m, func(o metav1.DeleteOptions) error {
			return c.opts.Client.AppsV1().Deployments(ns).Delete(ctx, m.GetName(), o)
		}))
	}
	for _, m := range svcs {
		errs = append(errs, c.deleteManaged(ctx, "Service", m, func(o metav1.DeleteOptions) error {
			return c.opts.Client.CoreV1().Services(ns).Delete(ctx, m.GetName(), o)
		}))
	}
	return errors.Join(errs...)
}

func (c *Controller) deleteManaged(_ context.Context, kind string, m metav1.Object, del func(metav1.DeleteOptions) error) error {
	uid := m.GetUID()
	// Background propagation: the Deployment's ReplicaSets and pods go too (where a garbage
	// collector runs). The UID precondition keeps us from deleting a newer object of that name.
	policy := metav1.DeletePropagationBackground
	err := del(metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}, PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete %s %s/%s of a deleted MeshGatewayInstance: %w", kind, m.GetNamespace(), m.GetName(), err)
	}
	if err == nil {
		c.log.Info("deleted the "+kind+" of a deleted MeshGatewayInstance", "namespace", m.GetNamespace(), "name", m.GetName())
	}
	return nil
}
