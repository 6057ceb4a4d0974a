package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/meshgate/meshgate/kube/admission"
)

// withKubeWebhook serves the validating admission webhook in Kubernetes mode. The API server
// calls it on the HTTPS API port; it authenticates as nobody in particular, so the webhook
// answers without the admin token, and only answers (it changes nothing).
func (cp *ControlPlane) withKubeWebhook(next http.Handler) http.Handler {
	if cp.kube == nil {
		return next
	}
	h := admission.Handler(admission.Options{Check: cp.admissionZoneCheck(), Logger: cp.log.With("component", "admission")})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == admission.Path {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// webhookCAEvery is how often the webhook configuration is re-read (the informer's resync), so
// a rotated control-plane CA reaches it even when the configuration does not change.
const webhookCAEvery = time.Minute

// keepWebhookCA keeps the caBundle of the named ValidatingWebhookConfiguration equal to the CA
// that signs the serving certificate: `meshgate install control-plane` cannot know it when it
// prints the configuration. It watches that one object, so a configuration created or
// re-applied after the start gets the CA at once.
func (cp *ControlPlane) keepWebhookCA(ctx context.Context) error {
	name := cp.kube.cfg.WebhookConfiguration
	if name == "" {
		return nil
	}
	f := informers.NewSharedInformerFactoryWithOptions(cp.kube.client, webhookCAEvery,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		}))
	inf := f.Admissionregistration().V1().ValidatingWebhookConfigurations().Informer()
	poke := make(chan struct{}, 1)
	signal := func(any) {
		select {
		case poke <- struct{}{}:
		default:
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: signal, UpdateFunc: func(_, n any) { signal(n) },
	}); err != nil {
		return err
	}
	f.Start(ctx.Done())
	defer f.Shutdown()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-poke:
		}
		if err := cp.patchWebhookCA(ctx, name); err != nil && ctx.Err() == nil {
			cp.log.Warn("cannot set the admission webhook's caBundle; kubectl apply of Kuma resources may fail until it is set",
				"webhookConfiguration", name, "error", err)
		}
	}
}

func (cp *ControlPlane) patchWebhookCA(ctx context.Context, name string) error {
	ca := cp.serving.CAPEM()
	if len(ca) == 0 {
		return fmt.Errorf("the serving certificate (--tls-cert-file) carries no CA to put in the caBundle")
	}
	api := cp.kube.client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	cfg, err := api.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	// A JSON patch (the ClusterRole grants get and patch of this one object, not update),
	// guarded by the resourceVersion read, so a concurrent edit of the list is not clobbered.
	ops := []map[string]any{{"op": "test", "path": "/metadata/resourceVersion", "value": cfg.ResourceVersion}}
	for i := range cfg.Webhooks {
		if !bytes.Equal(cfg.Webhooks[i].ClientConfig.CABundle, ca) {
			ops = append(ops, map[string]any{"op": "add", "path": fmt.Sprintf("/webhooks/%d/clientConfig/caBundle", i), "value": ca})
		}
	}
	if len(ops) == 1 {
		return nil
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	if _, err := api.Patch(ctx, name, types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: "meshgate"}); err != nil {
		return fmt.Errorf("patching the caBundle of %s: %w", name, err)
	}
	cp.log.Info("admission webhook caBundle set", "webhookConfiguration", name)
	return nil
}
