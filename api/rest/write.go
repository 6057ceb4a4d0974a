package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
)

// Origin marks records written through the API, as opposed to `file:<path>` records the
// --resources directory sync owns.
const Origin = "api"

// writeAttempts bounds retries when a writer outside this handler changes a record between
// our read and our commit.
const writeAttempts = 3

// change is one resource a request writes, and what became of it.
type change struct {
	obj    api.Object
	key    store.Key
	spec   []byte
	cur    *store.Record // nil when the resource does not exist yet
	status string
	rec    store.Record
}

// write commits objs in one store transaction, or nothing. check sees each change with its
// current record first (for preconditions). Every put carries the version read here as its
// expected version, so the cross-resource check and the preconditions hold at commit time; a
// conflict means another writer got in between, and the whole request is re-evaluated.
func (h *handler) write(ctx context.Context, objs []api.Object, check func(*change) error) ([]*change, error) {
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	for attempt := 1; ; attempt++ {
		changes, err := h.tryWrite(ctx, objs, check)
		if !errors.Is(err, store.ErrConflict) {
			return changes, err
		}
		if attempt == writeAttempts {
			return nil, &apiError{status: http.StatusConflict, title: "Conflict",
				details: "the resources kept changing while being written; retry"}
		}
	}
}

func (h *handler) tryWrite(ctx context.Context, objs []api.Object, check func(*change) error) ([]*change, error) {
	snap, err := h.store.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the store: %w", err)
	}
	current := make(map[store.Key]*store.Record, len(snap.Records))
	for i := range snap.Records {
		current[snap.Records[i].Key] = &snap.Records[i]
	}
	changes := make([]*change, len(objs))
	for i, obj := range objs {
		spec, err := api.Encode(obj)
		if err != nil {
			return nil, err
		}
		c := &change{obj: obj, key: keyOf(obj), spec: spec}
		c.cur = current[c.key]
		if err := h.writable(c.key, c.cur); err != nil {
			return nil, err
		}
		if check != nil {
			if err := check(c); err != nil {
				return nil, err
			}
		}
		changes[i] = c
	}
	if errs := crossCheck(snap.Records, changes); len(errs) > 0 {
		return nil, invalid(errs)
	}
	var req store.ApplyRequest
	for _, c := range changes {
		switch {
		case c.cur != nil && bytes.Equal(c.cur.Spec, c.spec):
			// Rewriting identical content would bump the version and wake every watcher for
			// nothing.
			c.status, c.rec = wire.StatusUnchanged, *c.cur
			continue
		case c.cur != nil:
			c.status = wire.StatusConfigured
			req.Puts = append(req.Puts, store.Put{Key: c.key, Spec: c.spec, Origin: Origin, ExpectedVersion: c.cur.Version})
		default:
			c.status = wire.StatusCreated
			req.Puts = append(req.Puts, store.Put{Key: c.key, Spec: c.spec, Origin: Origin, ExpectedVersion: -1})
		}
	}
	if len(req.Puts) == 0 {
		return changes, nil
	}
	res, err := h.store.Apply(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("writing %d resources: %w", len(req.Puts), err)
	}
	written := make(map[store.Key]store.Record, len(res.Records))
	for _, rec := range res.Records {
		written[rec.Key] = rec
	}
	for _, c := range changes {
		if c.status != wire.StatusUnchanged {
			c.rec = written[c.key]
			h.log.Info("resource "+c.status, "kind", c.key.Kind, "mesh", c.key.Mesh, "name", c.key.Name,
				"version", c.rec.Version, "revision", res.Revision)
		}
	}
	return changes, nil
}

func keyOf(obj api.Object) store.Key {
	m := obj.GetMeta()
	k := store.Key{Kind: string(m.Kind), Mesh: m.Mesh, Name: m.Name}
	if info, ok := api.LookupKind(m.Kind); ok && info.Global {
		k.Mesh = ""
	}
	return k
}

// crossCheck builds the model from the stored resources with the changes applied and returns
// the cross-resource errors (a mesh that does not exist, a name or node id already taken) of
// the changed resources only: a problem elsewhere in the store is not this request's to fix.
// Those checks read nothing but kinds, meshes and names, so stored records take part as stubs
// made from their keys: a write costs the same whatever the specs of the thousands of
// dataplanes already stored (decoding them all made one PUT take 180 ms at 1,000 dataplanes).
func crossCheck(stored []store.Record, changes []*change) api.ErrorList {
	changed := make(map[store.Key]bool, len(changes))
	names := make(map[string]bool, len(changes))
	for _, c := range changes {
		changed[c.key] = true
		names[c.obj.GetMeta().DisplayName()] = true
	}
	// Stored resources first: where a change collides with one (a node id), the one already
	// stored keeps it and the change is the one refused.
	objs := make([]api.Object, 0, len(stored)+len(changes))
	for _, rec := range stored {
		if changed[rec.Key] {
			continue
		}
		meta := api.Meta{Kind: api.Kind(rec.Kind), Mesh: rec.Mesh, Name: rec.Name, Source: api.Source{File: "store", Line: 1}}
		switch meta.Kind {
		case api.KindMesh:
			objs = append(objs, &api.Mesh{Meta: meta})
		case api.KindDataplane:
			objs = append(objs, &api.Dataplane{Meta: meta})
		}
	}
	for _, c := range changes {
		objs = append(objs, c.obj)
	}
	_, errs := model.Build(objs)
	var mine api.ErrorList
	for _, e := range errs {
		if names[e.Resource] {
			mine = append(mine, e)
		}
	}
	return mine
}

// writable asks Options.Writable, if set, whether key may be written.
func (h *handler) writable(key store.Key, cur *store.Record) error {
	if h.opts.Writable == nil {
		return nil
	}
	if err := h.opts.Writable(key, cur); err != nil {
		return &apiError{status: http.StatusForbidden, title: "Forbidden", details: err.Error()}
	}
	return nil
}
