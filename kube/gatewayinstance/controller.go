// Package gatewayinstance is the MeshGatewayInstance controller of Kubernetes mode: for each
// instance whose tags a MeshGateway selects, it owns a Deployment of gateway pods (the
// `meshgate dataplane` container, annotated `kuma.io/gateway: builtin`) and a Service whose
// ports follow the MeshGateway's listeners, and reports a Ready condition on the instance, as
// Kuma's controller does for the same manifests.
package gatewayinstance

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/meshgate/meshgate/kube/meta"
)

var (
	// InstanceGVR and GatewayGVR are the resources the controller watches.
	InstanceGVR = schema.GroupVersionResource{Group: "kuma.io", Version: "v1alpha1", Resource: "meshgatewayinstances"}
	GatewayGVR  = schema.GroupVersionResource{Group: "kuma.io", Version: "v1alpha1", Resource: "meshgateways"}
)

// managedSelector selects the Deployments and Services the controller created.
var managedSelector = meta.ManagedByLabel + "=" + meta.ManagedByValue + "," + meta.InstanceLabel

const (
	defaultResync = 10 * time.Minute
	workers       = 2
	// syncTimeout bounds one reconcile of one instance (a few API calls).
	syncTimeout = 30 * time.Second
	// cacheSyncTimeout turns missing CRDs or RBAC into an error from Run rather than a hang.
	cacheSyncTimeout = 2 * time.Minute
)

// Options configure a Controller.
type Options struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Image is the gateway container's image (`run --gateway-image`).
	Image string
	// ControlPlaneAddress is what the gateway container dials, e.g.
	// https://meshgate.meshgate-system.svc:5682.
	ControlPlaneAddress string
	// ControlPlaneCA is the PEM bundle the gateway verifies the control plane with.
	ControlPlaneCA []byte
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Resync is the informers' resync period; 0 means 10 minutes.
	Resync time.Duration
	// Namespace limits the controller to the MeshGatewayInstances (and managed objects) of one
	// namespace; empty means every namespace. MeshGateways are cluster-scoped and always all
	// read.
	Namespace string
	// Gateways, when set, is where MeshGateways come from instead of the cluster's objects
	// (gateways.go): in a Kubernetes zone they are created on global.
	Gateways Gateways
}

// Controller reconciles MeshGatewayInstances. Create it with New and start it with Run.
type Controller struct {
	opts  Options
	log   *slog.Logger
	queue workqueue.TypedRateLimitingInterface[string]

	dynFactory  dynamicinformer.DynamicSharedInformerFactory
	gwFactory   dynamicinformer.DynamicSharedInformerFactory
	kubeFactory informers.SharedInformerFactory
	instances   cache.SharedIndexInformer
	gateways    cache.SharedIndexInformer
	deployments cache.SharedIndexInformer
	services    cache.SharedIndexInformer

	broadcaster record.EventBroadcaster
	recorder    record.EventRecorder

	runOnce sync.Once
}

// New checks opts and sets up the informers; nothing talks to the API server before Run.
func New(opts Options) (*Controller, error) {
	switch {
	case opts.Client == nil || opts.Dynamic == nil:
		return nil, errors.New("gatewayinstance: Client and Dynamic are required")
	case opts.Image == "":
		return nil, errors.New("gatewayinstance: the gateway image is required (--gateway-image)")
	case opts.ControlPlaneAddress == "":
		return nil, errors.New("gatewayinstance: the control plane address the gateways dial is required")
	}
	if block, _ := pem.Decode(opts.ControlPlaneCA); block == nil {
		return nil, errors.New("gatewayinstance: ControlPlaneCA holds no PEM block: gateways could not verify the control plane")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Resync <= 0 {
		opts.Resync = defaultResync
	}
	ns := opts.Namespace
	if ns == "" {
		ns = metav1.NamespaceAll
	}
	c := &Controller{
		opts: opts,
		log:  opts.Logger.With("controller", "meshgatewayinstance"),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "meshgatewayinstances"}),
	}
	c.dynFactory = dynamicinformer.NewFilteredDynamicSharedInformerFactory(opts.Dynamic, opts.Resync, ns, nil)
	c.instances = c.dynFactory.ForResource(InstanceGVR).Informer()
	if opts.Gateways == nil {
		// MeshGateways are cluster-scoped: a namespaced factory would list none.
		c.gwFactory = dynamicinformer.NewDynamicSharedInformerFactory(opts.Dynamic, opts.Resync)
		c.gateways = c.gwFactory.ForResource(GatewayGVR).Informer()
	}
	c.kubeFactory = informers.NewSharedInformerFactoryWithOptions(opts.Client, opts.Resync,
		informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = managedSelector }))
	c.deployments = c.kubeFactory.Apps().V1().Deployments().Informer()
	c.services = c.kubeFactory.Core().V1().Services().Informer()

	if err := c.addHandlers(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Controller) addHandlers() error {
	if _, err := c.instances.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueObject,
		UpdateFunc: func(_, obj any) { c.enqueueObject(obj) },
		DeleteFunc: c.enqueueObject,
	}); err != nil {
		return fmt.Errorf("gatewayinstance: watch MeshGatewayInstances: %w", err)
	}
	// Any MeshGateway change can change which instances it serves and their ports: recheck
	// every instance (a handful per cluster; each recheck is a no-op when nothing changed).
	// Gateways from elsewhere (Options.Gateways) are followed by Run.
	all := func(any) { c.enqueueAll() }
	if c.gateways != nil {
		if _, err := c.gateways.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    all,
			UpdateFunc: func(_, obj any) { all(obj) },
			DeleteFunc: all,
		}); err != nil {
			return fmt.Errorf("gatewayinstance: watch MeshGateways: %w", err)
		}
	}
	// A managed object changed or deleted by someone else is put back by its instance's sync;
	// one whose instance is gone is deleted by it.
	for _, inf := range []cache.SharedIndexInformer{c.deployments, c.services} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueOwner,
			UpdateFunc: func(_, obj any) { c.enqueueOwner(obj) },
			DeleteFunc: c.enqueueOwner,
		}); err != nil {
			return fmt.Errorf("gatewayinstance: watch managed objects: %w", err)
		}
	}
	return nil
}

func (c *Controller) enqueueObject(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		c.log.Warn("cannot key object", "error", err)
		return
	}
	c.queue.Add(key)
}

func (c *Controller) enqueueAll() {
	for _, key := range c.instances.GetStore().ListKeys() {
		c.queue.Add(key)
	}
}

// enqueueOwner queues the instance a managed Deployment or Service belongs to (its label).
func (c *Controller) enqueueOwner(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	if name := m.GetLabels()[meta.InstanceLabel]; name != "" {
		c.queue.Add(m.GetNamespace() + "/" + name)
	}
}

// Run starts the informers and workers and blocks until ctx is done. It returns an error if
// the caches do not sync (the CRDs are missing, or RBAC refuses a list), and nil when ctx ends.
// A Controller runs once.
func (c *Controller) Run(ctx context.Context) error {
	started := false
	c.runOnce.Do(func() { started = true })
	if !started {
		return errors.New("gatewayinstance: Run called twice")
	}
	defer c.queue.ShutDown()
	// The broadcaster starts a goroutine when created: made here, so a Controller that never
	// runs leaks nothing.
	c.broadcaster = record.NewBroadcaster()
	c.recorder = c.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "meshgate"})
	c.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.opts.Client.CoreV1().Events("")})
	defer c.broadcaster.Shutdown()

	// Shutdown waits for the informers, which stop only when their channel closes: close it
	// first, also when Run returns early because the caches did not sync.
	infCtx, stopInformers := context.WithCancel(ctx)
	defer func() {
		stopInformers()
		c.dynFactory.Shutdown()
		if c.gwFactory != nil {
			c.gwFactory.Shutdown()
		}
		c.kubeFactory.Shutdown()
	}()
	c.dynFactory.Start(infCtx.Done())
	c.kubeFactory.Start(infCtx.Done())
	syncs := []cache.InformerSynced{c.instances.HasSynced, c.deployments.HasSynced, c.services.HasSynced}
	if c.gwFactory != nil {
		c.gwFactory.Start(infCtx.Done())
		syncs = append(syncs, c.gateways.HasSynced)
	}
	syncCtx, cancel := context.WithTimeout(ctx, cacheSyncTimeout)
	synced := cache.WaitForCacheSync(syncCtx.Done(), syncs...)
	cancel()
	if !synced {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("gatewayinstance: informer caches did not sync within %v (are the kuma.io CRDs installed, and may meshgate list them, Deployments and Services?)", cacheSyncTimeout)
	}
	c.log.Info("started", "namespace", c.opts.Namespace, "image", c.opts.Image)

	var wg sync.WaitGroup
	if c.opts.Gateways != nil {
		wg.Go(func() { c.followGateways(ctx) })
	}
	for range workers {
		wg.Go(func() {
			for c.processNext(ctx) {
			}
		})
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	sctx, cancel := context.WithTimeout(ctx, syncTimeout)
	err := c.sync(sctx, key)
	cancel()
	if err == nil {
		c.queue.Forget(key)
		return true
	}
	switch {
	case ctx.Err() != nil:
	case apierrors.IsConflict(err):
		// Our cache is behind a write (often our own status update): retry on the newer copy.
		c.log.Debug("sync conflicted; retrying", "instance", key, "error", err)
	default:
		c.log.Warn("sync failed; retrying", "instance", key, "error", err)
	}
	c.queue.AddRateLimited(key)
	return true
}
