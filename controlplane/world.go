package controlplane

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/crossmesh"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
	"github.com/meshgate/meshgate/xds/build"
)

// world is what one store revision renders from: the model, the cross-mesh network and the
// mesh bundles. It is never modified once built, so renders read it without a lock.
type world struct {
	revision int64
	model    *model.Model
	network  *build.Network
	bundles  map[string]string
	// versions is every record's version, to tell the next revision's changes.
	versions map[store.Key]int64
	// shape fingerprints what every dataplane may depend on besides its own resources and the
	// endpoints of the services it uses (impact.go).
	shape string
}

// decoded is one record's decoded objects, kept while the record's version stays the same:
// records are validated when written, so decoding is only ever needed for what changed.
type decoded struct {
	version int64
	objs    []api.Object
}

// decodeCache keeps the decoded objects of the last revision. Only the reconciler's goroutine
// uses it.
type decodeCache map[store.Key]decoded

// decode turns stored records back into objects, decoding only records it has not seen at their
// version. A record that no longer decodes (written by a newer meshgate, say) is logged and
// skipped rather than stopping every other dataplane's updates. The cache ends up holding
// exactly the records given.
func (c decodeCache) decode(records []store.Record, log *slog.Logger) ([]api.Object, map[store.Key]int64) {
	var objs []api.Object
	versions := make(map[store.Key]int64, len(records))
	seen := make(map[store.Key]bool, len(records))
	for _, rec := range records {
		versions[rec.Key] = rec.Version
		seen[rec.Key] = true
		if d, ok := c[rec.Key]; ok && d.version == rec.Version {
			objs = append(objs, d.objs...)
			continue
		}
		src := fmt.Sprintf("store:%s/%s/%s", rec.Kind, rec.Mesh, rec.Name)
		out, errs := api.Decode(src, rec.Spec)
		if len(errs) > 0 {
			log.Error("stored resource no longer valid; ignored", "resource", src, "error", errs)
			delete(c, rec.Key)
			continue
		}
		for _, o := range out {
			meta := o.GetMeta()
			meta.CreationTime = rec.CreationTime
			// A stored spec is one line of JSON: every field is on line 1, so the map from
			// field path to line (the larger part of a decoded dataplane) says nothing.
			meta.Source.Fields = nil
		}
		c[rec.Key] = decoded{version: rec.Version, objs: out}
		objs = append(objs, out...)
	}
	for k := range c {
		if !seen[k] {
			delete(c, k)
		}
	}
	return objs, versions
}

// buildModel is model.Build with its cross-resource problems logged: the rest still builds.
func buildModel(objs []api.Object, log *slog.Logger) *model.Model {
	m, errs := model.Build(objs)
	for _, e := range errs {
		log.Error("resource ignored", "error", e.Error())
	}
	return m
}

// decodeModel decodes every record afresh into a model (tests and one-off reads).
func decodeModel(records []store.Record, log *slog.Logger) *model.Model {
	objs, _ := decodeCache{}.decode(records, log)
	return buildModel(objs, log)
}

// changedKeys lists the records added, rewritten or removed between two revisions.
func changedKeys(before, after map[store.Key]int64) []store.Key {
	var out []store.Key
	for k, v := range after {
		if old, ok := before[k]; !ok || old != v {
			out = append(out, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out = append(out, k)
		}
	}
	return out
}

// networkShape fingerprints the network and bundles without the services' endpoints: the
// cross-mesh table (exposures without their gateway dataplanes), the VIPs, the conflicts, each
// mesh's services with their protocols, and the bundles cross-mesh listeners trust. A change
// here may change any dataplane; a change of endpoints only the dataplanes that use them.
func networkShape(n *build.Network, bundles map[string]string) string {
	h := sha256.New()
	table := crossmesh.Table{}
	if n.Table != nil {
		table = *n.Table
	}
	exposures := make([]crossmesh.Exposure, len(table.Exposures))
	for i, e := range table.Exposures {
		e.Endpoints = nil
		exposures[i] = e
	}
	table.Exposures = exposures
	fmt.Fprintf(h, "%v\n%v\n%v\n%v\n", table, n.VIPs, n.Problems, bundles)
	n.EachService(func(mesh, service, protocol string) {
		fmt.Fprintf(h, "%q %q %q\n", mesh, service, protocol)
	})
	return hex.EncodeToString(h.Sum(nil))
}

// load reads the store into a world, decoding only what changed since the last one.
func (r *reconciler) load(ctx context.Context) (*world, error) {
	snap, err := r.store.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading store: %w", err)
	}
	if r.decoded == nil {
		r.decoded = decodeCache{}
	}
	objs, versions := r.decoded.decode(snap.Records, r.log)
	return &world{revision: snap.Revision, model: buildModel(objs, r.log), versions: versions}, nil
}
