package admission

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/meshgate/meshgate/api/kube"
	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/kube/meta"
)

// kumaSecretType is the type of the core Secrets Kuma (and meshgate) read as mesh Secrets.
const kumaSecretType = "system.kuma.io/secret"

// review decides one request. Only a CREATE or UPDATE of a kind meshgate serves can be denied:
// DELETE, subresources (status is meshgate's own to write, whatever the spec holds), kinds
// meshgate does not know (other Kuma CRDs installed beside meshgate's) and other Secrets pass.
func (h *handler) review(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	allow := &admissionv1.AdmissionResponse{Allowed: true}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update || req.SubResource != "" {
		return allow
	}
	var plural string
	switch {
	case req.Kind.Group == kube.Group:
		info, ok := api.LookupKind(api.Kind(req.Kind.Kind))
		if !ok || info.Kind == api.KindSecret {
			return allow
		}
		plural = wire.Plural(info.Kind)
	case req.Kind.Group == "" && req.Kind.Kind == "Secret":
		plural = "secrets"
	default:
		return allow
	}
	var obj map[string]any
	if err := json.Unmarshal(req.Object.Raw, &obj); err != nil || obj == nil {
		return deny(http.StatusBadRequest, "the request's object is not a JSON object")
	}
	if plural == "secrets" && obj["type"] != kumaSecretType {
		return allow
	}
	md, _ := obj["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		obj["metadata"] = md
	}
	// An object being deleted only loses its finalizers: refusing that for an object that was
	// invalid before the webhook existed would keep it forever.
	if req.Operation == admissionv1.Update && md["deletionTimestamp"] != nil {
		return allow
	}
	label := objectLabel(plural, req, md)
	errs := h.validate(ctx, label, obj)
	if len(errs) == 0 {
		return allow
	}
	h.log.Info("admission denied", "object", label, "operation", req.Operation, "user", req.UserInfo.Username,
		"errors", len(errs))
	return deny(http.StatusUnprocessableEntity, Messages(errs))
}

// validate decodes the object as `meshgate validate` decodes a file holding it, then runs the
// control plane's Check on what decoded.
func (h *handler) validate(ctx context.Context, label string, obj map[string]any) api.ErrorList {
	// The API server's fields, not the user's: the decoder reads only what manifests carry.
	delete(obj, "status")
	delete(obj["metadata"].(map[string]any), "managedFields")
	data, err := json.Marshal(obj)
	if err != nil {
		return api.ErrorList{{File: label, Message: "cannot encode the object: " + err.Error()}}
	}
	objs, errs := api.Decode(label, data)
	if len(errs) > 0 || h.check == nil {
		return errs
	}
	for _, o := range objs {
		errs = append(errs, h.check(ctx, o)...)
	}
	return errs
}

// objectLabel is the "file" of the object's errors: `<plural>/<name>`, with `<name>.<namespace>`
// for a namespaced object (meta.ObjectLabel), as the control plane labels the same object in
// its Events and status conditions. The API server has set the name and namespace by the time
// it calls validating webhooks; the request's are the fallback.
func objectLabel(plural string, req *admissionv1.AdmissionRequest, md map[string]any) string {
	if name, _ := md["name"].(string); name == "" && req.Name != "" {
		md["name"] = req.Name
	}
	if ns, _ := md["namespace"].(string); ns == "" && req.Namespace != "" {
		md["namespace"] = req.Namespace
	}
	name, _ := md["name"].(string)
	if ns, _ := md["namespace"].(string); ns != "" {
		name += "." + ns
	}
	return meta.ObjectLabel(plural, name)
}

// Messages formats errors as the webhook's denial does: one per line, each as `meshgate
// validate` prints it without the line number (the line of a JSON rendering the user never
// saw): `meshgatewayroutes/edge: MeshGatewayRoute default/edge: conf.http.rules[0]...: must be
// an absolute path`, the same text the control plane writes into the object's Valid condition.
// The denial's reason is Invalid (code 422), so `kubectl apply -f route.yaml` prints (kubectl
// v0.37's checkErr): `The request is invalid: error when creating "route.yaml": admission
// webhook "kuma.validator.meshgate.io" denied the request: ` and then the messages.
func Messages(errs api.ErrorList) string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		e.Line = 0
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func deny(code int32, msg string) *admissionv1.AdmissionResponse {
	reason := metav1.StatusReasonBadRequest
	if code == http.StatusUnprocessableEntity {
		reason = metav1.StatusReasonInvalid
	}
	return &admissionv1.AdmissionResponse{Result: &metav1.Status{
		Status: metav1.StatusFailure, Code: code, Reason: reason, Message: msg,
	}}
}
