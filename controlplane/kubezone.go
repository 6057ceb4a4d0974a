package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/kube/source"
	"github.com/meshgate/meshgate/store"
)

// A Kubernetes zone (`--environment kubernetes --mode zone`): the kinds global owns reach the
// store from global over KDS (Origin "global"), the cluster gives the zone's own resources
// (pods become Dataplanes, Origin "kubernetes", which the KDS client reports to global), the
// MeshGatewayInstance controller serves global's MeshGateways, and the admission webhook and
// the cluster source refuse Kuma objects of global's kinds with the zone's "create it on
// global" error.

func (cp *ControlPlane) kubeZone() bool { return cp.kube != nil && cp.mode == ModeZone }

// refuseGlobalKinds is why the zone's cluster may not define a resource (its kind is
// global's), nil when it may: the rule the zone's API applies to writes.
func (cp *ControlPlane) refuseGlobalKinds() func(store.Key) error {
	rule := writable(false, ModeZone, cp.cfg.MultiZone.Zone)
	return func(k store.Key) error { return rule(k, nil) }
}

// kubeSourceZone configures the cluster source of a Kubernetes zone (nil elsewhere).
func (cp *ControlPlane) kubeSourceZone() *source.Zone {
	if !cp.kubeZone() {
		return nil
	}
	return &source.Zone{Refuse: cp.refuseGlobalKinds(), Origin: OriginGlobal}
}

// admissionZoneCheck denies, in a Kubernetes zone, Kuma objects of global's kinds (nil
// elsewhere: no cross-resource check).
func (cp *ControlPlane) admissionZoneCheck() func(context.Context, api.Object) api.ErrorList {
	if !cp.kubeZone() {
		return nil
	}
	refuse := cp.refuseGlobalKinds()
	return func(_ context.Context, o api.Object) api.ErrorList {
		m := o.GetMeta()
		key := store.Key{Kind: string(m.Kind), Mesh: m.Mesh, Name: m.Name}
		if m.Kind == api.KindMesh {
			key.Mesh = ""
		}
		if err := refuse(key); err != nil {
			return api.ErrorList{{File: m.Source.File, Message: err.Error()}}
		}
		return nil
	}
}

// zoneGateways gives a Kubernetes zone's MeshGatewayInstance controller the MeshGateways global
// synced to the store (gatewayinstance.Gateways): the zone cluster has none of its own.
type zoneGateways struct {
	store   store.Store
	log     *slog.Logger
	changed chan struct{}

	mu   sync.Mutex
	list []*api.MeshGateway
	last *string // what list was made from (keys and versions); nil before the first read
}

func newZoneGateways(st store.Store, log *slog.Logger) *zoneGateways {
	return &zoneGateways{store: st, log: log, changed: make(chan struct{}, 1)}
}

func (g *zoneGateways) Gateways() []*api.MeshGateway {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.list)
}

func (g *zoneGateways) Changed() <-chan struct{} { return g.changed }

// run re-reads global's MeshGateways after every store change until ctx ends.
func (g *zoneGateways) run(ctx context.Context) error {
	changes, err := g.store.Watch(ctx)
	if err != nil {
		return fmt.Errorf("watching the store for MeshGateways from global: %w", err)
	}
	g.refresh(ctx)
	for range changes {
		g.refresh(ctx)
	}
	return nil
}

func (g *zoneGateways) refresh(ctx context.Context) {
	res, err := g.store.List(ctx, store.ListRequest{Kind: string(api.KindMeshGateway)})
	if err != nil {
		if ctx.Err() == nil {
			// The last list stays: instances keep their gateways while the store is away.
			g.log.Warn("reading MeshGateways from global", "error", err)
		}
		return
	}
	var sig []string
	var list []*api.MeshGateway
	for _, rec := range res.Records {
		if rec.Origin != OriginGlobal {
			continue
		}
		sig = append(sig, fmt.Sprintf("%s/%s@%d", rec.Mesh, rec.Name, rec.Version))
		objs, errs := api.Decode("global:MeshGateway/"+rec.Mesh+"/"+rec.Name, rec.Spec)
		if len(errs) > 0 || len(objs) != 1 {
			g.log.Warn("a MeshGateway from global does not decode; its instances are not served", "mesh", rec.Mesh, "name", rec.Name, "errors", errs.Error())
			continue
		}
		if gw, ok := objs[0].(*api.MeshGateway); ok {
			list = append(list, gw)
		}
	}
	slices.Sort(sig)
	key := strings.Join(sig, ",")
	g.mu.Lock()
	same := g.last != nil && *g.last == key
	g.list, g.last = list, &key
	g.mu.Unlock()
	if same {
		return
	}
	select {
	case g.changed <- struct{}{}:
	default:
	}
}
