package kds

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"

	"github.com/meshgate/meshgate/store"
)

// receiver applies one stream's responses to the local store, each in one transaction. It only
// ever touches records of its own origin.
type receiver struct {
	st     store.Store
	kinds  []string
	origin string
	// zone, on global, is the sending zone: names are prefixed and labels added.
	zone string
}

// apply applies a response; an error (a NACK) means nothing was changed.
func (r *receiver) apply(ctx context.Context, resp *discovery.DeltaDiscoveryResponse) (int, error) {
	kind, err := kindOf(resp.GetTypeUrl(), r.kinds)
	if err != nil {
		return 0, err
	}
	full := strings.HasPrefix(resp.GetSystemVersionInfo(), fullPrefix)
	list, err := r.st.List(ctx, store.ListRequest{Kind: kind})
	if err != nil {
		return 0, fmt.Errorf("listing %s records: %w", kind, err)
	}
	existing := map[store.Key]store.Record{}
	for _, rec := range list.Records {
		existing[rec.Key] = rec
	}
	var req store.ApplyRequest
	keep := map[store.Key]bool{}
	for _, res := range resp.GetResources() {
		remote, err := parseName(kind, res.GetName())
		if err != nil {
			return 0, err
		}
		spec := res.GetResource().GetValue()
		if t := res.GetResource().GetTypeUrl(); t != resp.GetTypeUrl() {
			return 0, fmt.Errorf("%s %s: type %q in a %s response", kind, res.GetName(), t, resp.GetTypeUrl())
		}
		if err := checkSpec(remote, spec); err != nil {
			return 0, err
		}
		key := r.local(remote)
		if r.zone != "" {
			if spec, err = zoneSpec(r.zone, remote, spec); err != nil {
				return 0, err
			}
		}
		keep[key] = true
		cur, ok := existing[key]
		if ok && cur.Origin != r.origin {
			return 0, fmt.Errorf("%s %s: a record of origin %q exists; this stream may only write origin %q", kind, res.GetName(), cur.Origin, r.origin)
		}
		if ok && bytes.Equal(cur.Spec, spec) {
			continue
		}
		expected := int64(-1)
		if ok {
			expected = cur.Version
		}
		req.Puts = append(req.Puts, store.Put{Key: key, Spec: spec, Origin: r.origin, ExpectedVersion: expected})
	}
	for _, name := range resp.GetRemovedResources() {
		remote, err := parseName(kind, name)
		if err != nil {
			return 0, err
		}
		key := r.local(remote)
		cur, ok := existing[key]
		if !ok {
			continue
		}
		if cur.Origin != r.origin {
			return 0, fmt.Errorf("%s %s: a record of origin %q exists; this stream may only delete origin %q", kind, name, cur.Origin, r.origin)
		}
		req.Deletes = append(req.Deletes, store.Delete{Key: key, ExpectedVersion: cur.Version})
	}
	if full {
		for key, cur := range existing {
			if cur.Origin == r.origin && !keep[key] {
				req.Deletes = append(req.Deletes, store.Delete{Key: key, ExpectedVersion: cur.Version})
			}
		}
	}
	if len(req.Puts)+len(req.Deletes) == 0 {
		return 0, nil
	}
	if _, err := r.st.Apply(ctx, req); err != nil {
		return 0, fmt.Errorf("applying %d %s changes: %w", len(req.Puts)+len(req.Deletes), kind, err)
	}
	return len(req.Puts) + len(req.Deletes), nil
}

func (r *receiver) local(remote store.Key) store.Key {
	if r.zone != "" {
		remote.Name = r.zone + "." + remote.Name
	}
	return remote
}
