package controlplane

import (
	"bytes"
	"context"
	"errors"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/xds/build"
)

// advertiseServices keeps this zone's own ZoneIngresses' availableServices equal to what the
// zone's dataplanes serve, as Kuma's zone control plane does: the ingress records then sync
// to global and from there to the other zones, whose consumers route through the ingress.
// It runs after each model build; a write it makes triggers one more build that changes
// nothing, so it converges.
func (cp *ControlPlane) advertiseServices(ctx context.Context, m *model.Model, n *build.Network) {
	if cp.mode != ModeZone {
		return
	}
	want := build.AvailableServices(m, n)
	for _, zi := range m.ZoneIngresses() {
		if zi.Spec.Zone != "" && zi.Spec.Zone != cp.cfg.MultiZone.Zone {
			continue // another zone's, received from global
		}
		key := store.Key{Kind: string(api.KindZoneIngress), Name: zi.Name}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := cp.writeAvailable(ctx, key, want)
		cancel()
		if err != nil && !errors.Is(err, store.ErrConflict) {
			cp.log.Warn("cannot update the services a ZoneIngress advertises", "ingress", zi.Name, "error", err)
		}
	}
}

func (cp *ControlPlane) writeAvailable(ctx context.Context, key store.Key, want []api.AvailableService) error {
	rec, err := cp.store.Get(ctx, key)
	if err != nil || rec.Origin == OriginGlobal {
		return err
	}
	objs, errs := api.Decode(key.Name, rec.Spec)
	if len(errs) > 0 || len(objs) != 1 {
		return errs.Err()
	}
	zi, ok := objs[0].(*api.ZoneIngress)
	if !ok {
		return nil
	}
	zi.Spec.AvailableServices = want
	zi.Spec.Zone = cp.cfg.MultiZone.Zone
	spec, err := api.Encode(zi)
	if err != nil || bytes.Equal(spec, rec.Spec) {
		return err
	}
	_, err = cp.store.Apply(ctx, store.ApplyRequest{Puts: []store.Put{{Key: key, Spec: spec, Origin: rec.Origin, ExpectedVersion: rec.Version}}})
	return err
}

// onModel publishes what the whole model gives besides xDS: DNS names and VIPs, and on a zone
// the services its ingresses advertise.
func (cp *ControlPlane) onModel(ctx context.Context, m *model.Model) (*build.Network, error) {
	n, err := cp.dns.update(ctx, m)
	// Without VIPs (a store error) the exposures are still known: nil makes the build resolve them.
	cp.advertiseServices(ctx, m, n)
	return n, err
}
