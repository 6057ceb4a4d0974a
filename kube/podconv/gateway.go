package podconv

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"

	"github.com/meshgate/meshgate/kube/meta"
)

// builtinTags are a builtin gateway pod's tags: the JSON object of its `kuma.io/tags`
// annotation, which the MeshGatewayInstance controller writes from the instance's tags.
// Kuma's two messages are kept, so users find them in Kuma's documentation and issues.
func (c *converter) builtinTags(pod *corev1.Pod) (map[string]string, bool) {
	raw, found := pod.Annotations[meta.TagsAnnotation]
	if !found {
		c.problem(pod, ReasonFailed, "Missing %s annotation on Pod serving a builtin Gateway", meta.TagsAnnotation)
		return nil, false
	}
	var tags map[string]string
	// Unmarshal also refuses data after the object, and `null` leaves tags nil.
	err := json.Unmarshal([]byte(raw), &tags)
	if err != nil || tags == nil {
		detail := "it must be a JSON object of strings"
		if err != nil {
			detail += ": " + err.Error()
		}
		c.problem(pod, ReasonFailed, "Invalid %s annotation on Pod serving a builtin Gateway: %s", meta.TagsAnnotation, detail)
		return nil, false
	}
	return tags, true
}
