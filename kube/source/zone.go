package source

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
)

// Zone makes a Source the one of a Kubernetes zone of a multi-zone deployment: the kinds
// global owns (meshes, gateways, routes, policies, mesh Secrets) reach the store from global
// over KDS, so the cluster's copies of them are refused; pods still become Dataplanes here.
type Zone struct {
	// Refuse returns why a resource cannot come from this cluster (its kind is global's), nil
	// when it can. The error is reported on the object (a Warning Event, ReasonGlobalResource),
	// which is then ignored, as the zone's API refuses the same write.
	Refuse func(store.Key) error
	// Origin marks the records global synced to the zone. They join the cluster's objects when
	// the model checks them (a gateway pod's Dataplane names a mesh that came from global), and
	// a change of them makes the Source check the cluster's objects again.
	Origin string
}

// ReasonGlobalResource is the reason of the Warning Event on a Kuma object of a kind global
// owns, found in a zone's cluster. It gets no Valid condition: another control plane watching
// the same cluster (a standalone one, before the cluster became a zone) would find the object
// valid, and the two would overwrite each other's condition without end. The admission
// webhook refuses such objects before they are stored anyway.
const ReasonGlobalResource = "GlobalResource"

// refuse splits decoded objects into those this cluster may define and the errors of the
// others, located at label.
func (s *Source) refuse(label string, objs []api.Object) ([]api.Object, api.ErrorList) {
	z := s.opts.Zone
	if z == nil || z.Refuse == nil {
		return objs, nil
	}
	kept := objs[:0:0]
	var errs api.ErrorList
	for _, o := range objs {
		if err := z.Refuse(recordKey(o.GetMeta())); err != nil {
			errs = append(errs, api.FieldError{File: label, Message: err.Error()})
			continue
		}
		kept = append(kept, o)
	}
	return kept, errs
}

// zoneObjects decodes the records global synced to this zone, for the model check only.
func (s *Source) zoneObjects(snap store.Snapshot) []api.Object {
	z := s.opts.Zone
	if z == nil {
		return nil
	}
	var out []api.Object
	for _, rec := range snap.Records {
		if rec.Origin != z.Origin {
			continue
		}
		objs, errs := api.Decode(z.Origin+":"+rec.Kind+"/"+rec.Mesh+"/"+rec.Name, rec.Spec)
		if len(errs) > 0 {
			// KDS checked it when it arrived; a record that no longer decodes is global's to fix.
			s.log.Warn("a record from global does not decode", "kind", rec.Kind, "mesh", rec.Mesh, "name", rec.Name, "errors", errs.Error())
			continue
		}
		out = append(out, objs...)
	}
	return out
}

// watchZone pokes the Source whenever the records from global change (not at the Source's own
// writes, which would only check the same objects again).
func (s *Source) watchZone(ctx context.Context) error {
	changes, err := s.opts.Store.Watch(ctx)
	if err != nil {
		return fmt.Errorf("watching the store for resources from global: %w", err)
	}
	var last [sha256.Size]byte
	for range changes {
		snap, err := s.opts.Store.All(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("reading the store for resources from global", "error", err)
			s.poke() // the sync reports (and retries) what the store says
			continue
		}
		var lines []string
		for _, rec := range snap.Records {
			if rec.Origin == s.opts.Zone.Origin {
				lines = append(lines, fmt.Sprintf("%s\x00%s\x00%s\x00%d", rec.Kind, rec.Mesh, rec.Name, rec.Version))
			}
		}
		slices.Sort(lines) // every store lists in key order today; this does not depend on it
		sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
		if sum != last {
			last = sum
			s.poke()
		}
	}
	return nil
}
