package gatewayinstance

import (
	"encoding/json"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/kube/meta"
)

const (
	// containerName is Kuma's name for the gateway container.
	containerName = "kuma-gateway"
	// appLabel selects the gateway pods, as in Kuma's generated Deployment and Service.
	appLabel = "app"
)

// owner is the instance as an owner reference target.
type owner struct {
	APIVersion, Kind, Name string
	UID                    types.UID
}

func (o owner) ref() metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{
		APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: o.UID,
		Controller: &yes, BlockOwnerDeletion: &yes,
	}
}

// managedLabels are on the Deployment and the Service: they find both again (informers,
// orphan cleanup) and tell anyone looking who owns them.
func managedLabels(name string) map[string]string {
	return map[string]string{
		meta.ManagedByLabel: meta.ManagedByValue,
		meta.InstanceLabel:  name,
		appLabel:            name,
	}
}

// deploymentFor is the Deployment serving inst; ports are the MeshGateway's listener ports.
func (c *Controller) deploymentFor(inst *instance, o owner, ports []listenerPort) (*appsv1.Deployment, error) {
	tagsJSON, err := json.Marshal(inst.Tags)
	if err != nil {
		return nil, fmt.Errorf("encode the tags of MeshGatewayInstance %s/%s: %w", inst.Namespace, inst.Name, err)
	}
	resources, err := resourcesFor(inst.Spec.Resources)
	if err != nil {
		return nil, fmt.Errorf("MeshGatewayInstance %s/%s: %w", inst.Namespace, inst.Name, err)
	}
	var tmplMeta *api.GatewayInstanceMetadata
	var podSpec *api.GatewayInstancePodSpec
	if t := inst.Spec.PodTemplate; t != nil {
		tmplMeta, podSpec = t.Metadata, t.Spec
	}
	// The user's podTemplate metadata adds to the pod's; the keys the gateway's identity and
	// the Deployment's selector depend on are ours and win, as in Kuma.
	podLabels := merge(labelsOf(tmplMeta), map[string]string{
		appLabel:              inst.Name,
		meta.InstanceLabel:    inst.Name,
		meta.SidecarInjection: "disabled",
	})
	podAnnotations := merge(annotationsOf(tmplMeta), map[string]string{
		meta.GatewayAnnotation: meta.GatewayBuiltin,
		meta.TagsAnnotation:    string(tagsJSON),
		meta.MeshAnnotation:    inst.Mesh,
	})

	container := corev1.Container{
		Name:  containerName,
		Image: c.opts.Image,
		Args:  []string{"dataplane"},
		Env: []corev1.EnvVar{
			{Name: meta.EnvPodName, ValueFrom: fieldRef("metadata.name")},
			{Name: meta.EnvPodNamespace, ValueFrom: fieldRef("metadata.namespace")},
			{Name: meta.EnvCPAddress, Value: c.opts.ControlPlaneAddress},
			{Name: meta.EnvCPCA, Value: string(c.opts.ControlPlaneCA)},
		},
		Resources: resources,
		// No readiness probe: `meshgate dataplane` has no readiness endpoint defined yet, and
		// a probe on a port nobody serves would keep every gateway pod unready.
	}
	for _, p := range ports {
		container.Ports = append(container.Ports, corev1.ContainerPort{
			Name: p.Name, ContainerPort: p.Port, Protocol: corev1.ProtocolTCP,
		})
	}
	pod := corev1.PodSpec{Containers: []corev1.Container{container}}
	if podSpec != nil {
		pod.ServiceAccountName = podSpec.ServiceAccountName
		if sc := podSpec.SecurityContext; sc != nil && sc.FSGroup != nil {
			pod.SecurityContext = &corev1.PodSecurityContext{FSGroup: sc.FSGroup}
		}
		if cs := podSpec.Container; cs != nil && cs.SecurityContext != nil && cs.SecurityContext.ReadOnlyRootFilesystem != nil {
			pod.Containers[0].SecurityContext = &corev1.SecurityContext{
				ReadOnlyRootFilesystem: cs.SecurityContext.ReadOnlyRootFilesystem,
			}
		}
	}
	replicas := inst.Spec.ReplicasOrDefault()
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: inst.Name, Namespace: inst.Namespace,
			Labels:          managedLabels(inst.Name),
			OwnerReferences: []metav1.OwnerReference{o.ref()},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{appLabel: inst.Name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: podAnnotations},
				Spec:       pod,
			},
		},
	}, nil
}

// serviceFor is the Service in front of inst's pods: one TCP port per listener port.
func serviceFor(inst *instance, o owner, ports []listenerPort) *corev1.Service {
	var tmplMeta *api.GatewayInstanceMetadata
	var lbIP string
	if t := inst.Spec.ServiceTemplate; t != nil {
		tmplMeta = t.Metadata
		// The address only means something to a load balancer; the API server refuses it on
		// other Service types.
		if t.Spec != nil && inst.Spec.ServiceTypeOrDefault() == api.ServiceTypeLoadBalancer {
			lbIP = t.Spec.LoadBalancerIP
		}
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: inst.Name, Namespace: inst.Namespace,
			Labels:          merge(labelsOf(tmplMeta), managedLabels(inst.Name)),
			Annotations:     annotationsOf(tmplMeta),
			OwnerReferences: []metav1.OwnerReference{o.ref()},
		},
		Spec: corev1.ServiceSpec{
			Type:           corev1.ServiceType(inst.Spec.ServiceTypeOrDefault()),
			Selector:       map[string]string{appLabel: inst.Name},
			LoadBalancerIP: lbIP,
		},
	}
	for _, p := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{
			Name: p.Name, Protocol: corev1.ProtocolTCP, Port: p.Port, TargetPort: intstr.FromInt32(p.Port),
		})
	}
	return svc
}

func fieldRef(path string) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}
}

// resourcesFor converts the instance's resources (numbers or quantity strings, as the CRD
// allows) to Kubernetes quantities.
func resourcesFor(r *api.GatewayInstanceResources) (corev1.ResourceRequirements, error) {
	var out corev1.ResourceRequirements
	if r == nil {
		return out, nil
	}
	var err error
	if out.Limits, err = resourceList("resources.limits", r.Limits); err != nil {
		return out, err
	}
	out.Requests, err = resourceList("resources.requests", r.Requests)
	return out, err
}

func resourceList(path string, in map[string]api.Quantity) (corev1.ResourceList, error) {
	if len(in) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := corev1.ResourceList{}
	for _, k := range keys {
		q, err := resource.ParseQuantity(fmt.Sprint(in[k]))
		if err != nil {
			return nil, fmt.Errorf("%s.%s: invalid quantity %v: %w", path, k, in[k], err)
		}
		out[corev1.ResourceName(k)] = q
	}
	return out, nil
}

func labelsOf(m *api.GatewayInstanceMetadata) map[string]string {
	if m == nil {
		return nil
	}
	return m.Labels
}

func annotationsOf(m *api.GatewayInstanceMetadata) map[string]string {
	if m == nil {
		return nil
	}
	return m.Annotations
}

// merge returns a new map with every set applied in order, later keys winning; nil if empty.
func merge(sets ...map[string]string) map[string]string {
	var out map[string]string
	for _, s := range sets {
		for k, v := range s {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}
