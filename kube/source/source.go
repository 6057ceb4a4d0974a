// Package source makes a Kubernetes cluster the source of meshgate's resources: informers on
// Kuma's CRDs, Kuma mesh Secrets, pods, Services and namespaces feed the same decode →
// validate → model path that resource files and the API use. Each object is decoded and
// validated on its own, so one invalid object (applied while the admission webhook was down,
// or valid only against resources that changed since) costs only itself: it is reported as an
// Event and a status condition on the object, and the rest keeps serving.
//
// The resources land in the store as records of Origin "kubernetes", written in one
// transaction per change of the cluster; records of that origin whose object is gone are
// deleted. The reconciler and everything after it see the store, as in universal mode.
package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/meshgate/meshgate/api/kube"
	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
)

// Origin marks the records this package owns.
const Origin = "kubernetes"

// Options configure a Source.
type Options struct {
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	Store   store.Store
	// Namespace is meshgate's own: Kuma mesh Secrets (type system.kuma.io/secret) are read
	// from it, as Kuma reads them from its system namespace.
	Namespace string
	// Debounce coalesces a burst of cluster changes into one store write.
	Debounce time.Duration
	// Resync re-lists everything this often, repairing anything a lost watch event missed
	// (0: never).
	Resync time.Duration
	// Zone is set in a Kubernetes zone of a multi-zone deployment (zone.go); nil: the cluster
	// is the source of every kind.
	Zone   *Zone
	Logger *slog.Logger
}

// Source mirrors the cluster into the store.
type Source struct {
	opts     Options
	log      *slog.Logger
	kinds    []kindInformer
	pods     cache.SharedIndexInformer
	services cache.SharedIndexInformer
	nss      cache.SharedIndexInformer
	secrets  cache.SharedIndexInformer
	factory  informers.SharedInformerFactory
	secretF  informers.SharedInformerFactory
	dynF     dynamicinformer.DynamicSharedInformerFactory
	report   *reporter
	changed  chan struct{}
	synced   chan struct{}
	syncOnce sync.Once
}

type kindInformer struct {
	info     api.KindInfo
	plural   string
	informer cache.SharedIndexInformer
}

// New prepares the informers; Run starts them.
func New(opts Options) (*Source, error) {
	if opts.Client == nil || opts.Dynamic == nil || opts.Store == nil {
		return nil, errors.New("kubernetes source: Client, Dynamic and Store are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 100 * time.Millisecond
	}
	s := &Source{opts: opts, log: opts.Logger, changed: make(chan struct{}, 1), synced: make(chan struct{})}
	s.dynF = dynamicinformer.NewDynamicSharedInformerFactory(opts.Dynamic, opts.Resync)
	for _, k := range kube.CRDKinds() {
		info, _ := api.LookupKind(k)
		if info.KubernetesOnly {
			// MeshGatewayInstances are the instance controller's, not resources of the model.
			continue
		}
		plural := wire.Plural(k)
		gvr := schema.GroupVersionResource{Group: kube.Group, Version: kube.Version, Resource: plural}
		inf := s.dynF.ForResource(gvr).Informer()
		s.kinds = append(s.kinds, kindInformer{info: info, plural: plural, informer: inf})
	}
	s.factory = informers.NewSharedInformerFactory(opts.Client, opts.Resync)
	s.pods = s.factory.Core().V1().Pods().Informer()
	s.services = s.factory.Core().V1().Services().Informer()
	s.nss = s.factory.Core().V1().Namespaces().Informer()
	s.secretF = informers.NewSharedInformerFactoryWithOptions(opts.Client, opts.Resync,
		informers.WithNamespace(opts.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("type", kumaSecretType).String()
		}))
	s.secrets = s.secretF.Core().V1().Secrets().Informer()
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { s.poke() },
		UpdateFunc: func(any, any) { s.poke() },
		DeleteFunc: func(any) { s.poke() },
	}
	for _, inf := range s.informers() {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("kubernetes source: %w", err)
		}
	}
	s.report = newReporter(opts.Client, opts.Dynamic, opts.Logger)
	return s, nil
}

const kumaSecretType = "system.kuma.io/secret"

func (s *Source) informers() []cache.SharedIndexInformer {
	out := []cache.SharedIndexInformer{s.pods, s.services, s.nss, s.secrets}
	for _, k := range s.kinds {
		out = append(out, k.informer)
	}
	return out
}

func (s *Source) poke() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Synced is closed once the cluster's resources were first written to the store: serving
// before that would hand dataplanes an empty configuration.
func (s *Source) Synced() <-chan struct{} { return s.synced }

// Pod returns a pod from the informer cache (for authenticating its dataplane).
func (s *Source) Pod(namespace, name string) (*corev1.Pod, bool) {
	obj, ok, err := s.pods.GetStore().GetByKey(namespace + "/" + name)
	if err != nil || !ok {
		return nil, false
	}
	pod, ok := obj.(*corev1.Pod)
	return pod, ok
}

// Run starts the informers, writes the cluster's resources to the store once they are in
// sync, and again after every change, until ctx ends.
func (s *Source) Run(ctx context.Context) error {
	s.dynF.Start(ctx.Done())
	s.factory.Start(ctx.Done())
	s.secretF.Start(ctx.Done())
	defer s.dynF.Shutdown()
	defer s.factory.Shutdown()
	defer s.secretF.Shutdown()
	defer s.report.close()
	var syncs []cache.InformerSynced
	for _, inf := range s.informers() {
		syncs = append(syncs, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), syncs...) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("kubernetes informers did not sync")
	}
	var zoneErr chan error // nil outside a zone: never ready
	if s.opts.Zone != nil {
		zoneErr = make(chan error, 1)
		go func() { zoneErr <- s.watchZone(ctx) }()
	}
	backoff := 100 * time.Millisecond
	for {
		err := s.sync(ctx)
		var retry <-chan time.Time
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error("writing the cluster's resources to the store failed; retrying", "error", err, "in", backoff)
			retry = time.After(backoff)
			backoff = min(2*backoff, 5*time.Second)
		} else {
			backoff = 100 * time.Millisecond
			s.syncOnce.Do(func() { close(s.synced) })
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-zoneErr:
			return err // nil only once ctx ended
		case <-retry:
			continue
		case <-s.changed:
		}
		// Coalesce the rest of the burst.
		timer := time.NewTimer(s.opts.Debounce)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		select {
		case <-s.changed:
		default:
		}
	}
}
