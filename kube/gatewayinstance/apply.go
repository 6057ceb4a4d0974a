package gatewayinstance

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshgate/meshgate/kube/meta"
)

// The API server defaults many fields of what we send (strategy, imagePullPolicy, clusterIP,
// nodePorts, ...). An existing object is up to date when everything we set is there with our
// value, which is what equality.Semantic.DeepDerivative checks: fields we leave unset are
// ignored. Labels and annotations added by others (kubectl rollout restart, cloud
// controllers) are kept for the same reason; keys removed from a template are not removed.

// applyDeployment creates want, or updates the existing Deployment of that name to it.
func (c *Controller) applyDeployment(ctx context.Context, want *appsv1.Deployment) error {
	deps := c.opts.Client.AppsV1().Deployments(want.Namespace)
	have, err := deps.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if _, err := deps.Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create Deployment %s/%s: %w", want.Namespace, want.Name, err)
		}
		c.log.Info("created gateway Deployment", "namespace", want.Namespace, "name", want.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get Deployment %s/%s: %w", want.Namespace, want.Name, err)
	}
	if err := checkManaged("Deployment", &have.ObjectMeta); err != nil {
		return err
	}
	if metaUpToDate(&want.ObjectMeta, &have.ObjectMeta) && equality.Semantic.DeepDerivative(want.Spec, have.Spec) {
		return nil
	}
	upd := have.DeepCopy()
	mergeMeta(&upd.ObjectMeta, &want.ObjectMeta)
	upd.Spec.Replicas = want.Spec.Replicas
	// Template metadata others added (kubectl rollout restart's restartedAt) is kept, or every
	// update of ours would undo it.
	tmpl := *want.Spec.Template.DeepCopy()
	tmpl.Labels = merge(have.Spec.Template.Labels, want.Spec.Template.Labels)
	tmpl.Annotations = merge(have.Spec.Template.Annotations, want.Spec.Template.Annotations)
	upd.Spec.Template = tmpl
	if _, err := deps.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update Deployment %s/%s: %w", want.Namespace, want.Name, err)
	}
	c.log.Info("updated gateway Deployment", "namespace", want.Namespace, "name", want.Name)
	return nil
}

// applyService creates want, or updates the existing Service of that name to it, keeping the
// cluster IP and the node ports the server allocated.
func (c *Controller) applyService(ctx context.Context, want *corev1.Service) error {
	svcs := c.opts.Client.CoreV1().Services(want.Namespace)
	have, err := svcs.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		if _, err := svcs.Create(ctx, want, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create Service %s/%s: %w", want.Namespace, want.Name, err)
		}
		c.log.Info("created gateway Service", "namespace", want.Namespace, "name", want.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("get Service %s/%s: %w", want.Namespace, want.Name, err)
	}
	if err := checkManaged("Service", &have.ObjectMeta); err != nil {
		return err
	}
	if metaUpToDate(&want.ObjectMeta, &have.ObjectMeta) && equality.Semantic.DeepDerivative(want.Spec, have.Spec) {
		return nil
	}
	upd := have.DeepCopy()
	mergeMeta(&upd.ObjectMeta, &want.ObjectMeta)
	nodePorts := map[int32]int32{}
	for _, p := range have.Spec.Ports {
		nodePorts[p.Port] = p.NodePort
	}
	upd.Spec.Ports = make([]corev1.ServicePort, len(want.Spec.Ports))
	for i, p := range want.Spec.Ports {
		if want.Spec.Type != corev1.ServiceTypeClusterIP {
			// A changed node port would break whatever points at it (a cloud load balancer).
			p.NodePort = nodePorts[p.Port]
		}
		upd.Spec.Ports[i] = p
	}
	if want.Spec.Type != have.Spec.Type && want.Spec.Type == corev1.ServiceTypeClusterIP {
		// The server refuses these on a ClusterIP Service.
		upd.Spec.ExternalTrafficPolicy = ""
		upd.Spec.AllocateLoadBalancerNodePorts = nil
		upd.Spec.HealthCheckNodePort = 0
	}
	upd.Spec.Type = want.Spec.Type
	upd.Spec.Selector = want.Spec.Selector
	upd.Spec.LoadBalancerIP = want.Spec.LoadBalancerIP
	if _, err := svcs.Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update Service %s/%s: %w", want.Namespace, want.Name, err)
	}
	c.log.Info("updated gateway Service", "namespace", want.Namespace, "name", want.Name)
	return nil
}

// checkManaged refuses to take over an object someone else created under the instance's name.
func checkManaged(kind string, m *metav1.ObjectMeta) error {
	if m.Labels[meta.ManagedByLabel] != meta.ManagedByValue {
		return fmt.Errorf("%s %s/%s exists and is not managed by meshgate (no %s=%s label): rename the MeshGatewayInstance or delete the %s",
			kind, m.Namespace, m.Name, meta.ManagedByLabel, meta.ManagedByValue, kind)
	}
	return nil
}

func metaUpToDate(want, have *metav1.ObjectMeta) bool {
	return equality.Semantic.DeepDerivative(want.Labels, have.Labels) &&
		equality.Semantic.DeepDerivative(want.Annotations, have.Annotations) &&
		equality.Semantic.DeepEqual(want.OwnerReferences, have.OwnerReferences)
}

func mergeMeta(dst, want *metav1.ObjectMeta) {
	dst.Labels = merge(dst.Labels, want.Labels)
	dst.Annotations = merge(dst.Annotations, want.Annotations)
	dst.OwnerReferences = want.OwnerReferences
}
