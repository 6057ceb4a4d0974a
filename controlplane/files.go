package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/store"
)

// fileOrigin marks records that a `--resources` file owns.
const fileOriginPrefix = "file:"

// fileSync keeps the store in step with a directory of resource files: every valid state of
// the directory is applied in one transaction; an invalid one is reported and changes nothing,
// so the last good configuration keeps serving.
type fileSync struct {
	dir   string
	store store.Store
	log   *slog.Logger
	// writable, when set, refuses resources this control plane may not define (a global
	// resource on a zone): the directory is then invalid like any other error.
	writable func(key store.Key, cur *store.Record) error
}

// sync applies the directory's current content. It returns the load errors, if any.
func (f *fileSync) sync(ctx context.Context) error {
	objs, errs := api.LoadFiles([]string{f.dir})
	if _, merrs := model.Build(objs); len(merrs) > 0 {
		errs = append(errs, merrs...)
	}
	if f.writable != nil {
		for _, o := range objs {
			m := o.GetMeta()
			if err := f.writable(store.Key{Kind: string(m.Kind), Mesh: meshOf(m), Name: m.Name}, nil); err != nil {
				errs = append(errs, api.FieldError{File: m.Source.File, Line: m.Source.Line, Resource: m.DisplayName(), Field: "type", Message: err.Error()})
			}
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return errs
	}
	want := make([]store.Put, 0, len(objs))
	for _, o := range objs {
		spec, err := api.Encode(o)
		if err != nil {
			return err
		}
		meta := o.GetMeta()
		want = append(want, store.Put{Key: store.Key{Kind: string(meta.Kind), Mesh: meshOf(meta), Name: meta.Name},
			Spec: spec, Origin: fileOriginPrefix + meta.Source.File})
	}
	owned := func(rec store.Record) bool { return strings.HasPrefix(rec.Origin, fileOriginPrefix) }
	// Version-checked against what was read; an API write in between is a conflict, and the
	// files are applied again on what it left.
	for attempt := 1; ; attempt++ {
		snap, err := f.store.All(ctx)
		if err != nil {
			return fmt.Errorf("reading store: %w", err)
		}
		req, replaced := store.Mirror(snap.Records, want, owned)
		if len(req.Puts) == 0 && len(req.Deletes) == 0 {
			return nil
		}
		res, err := f.store.Apply(ctx, req)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return fmt.Errorf("applying %s: %w", f.dir, err)
		}
		for _, rec := range replaced {
			f.log.Warn("resource file replaces a resource created through the API", "resource", rec.Key)
		}
		f.log.Info("resource files applied", "dir", f.dir, "written", len(req.Puts), "deleted", len(req.Deletes), "revision", res.Revision)
		return nil
	}
}

func meshOf(meta *api.Meta) string {
	if meta.Kind == api.KindMesh {
		return ""
	}
	return meta.Mesh
}

// watch syncs after every change in the directory tree, debounced so an editor's
// write-rename-chmod burst is one sync.
func (f *fileSync) watch(ctx context.Context, debounce time.Duration) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %s: %w", f.dir, err)
	}
	defer w.Close()
	if err := addTree(w, f.dir); err != nil {
		return err
	}
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Stat(ev.Name); err == nil && fi.IsDir() {
					_ = addTree(w, ev.Name)
				}
			}
			timer = time.After(debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			f.log.Warn("watching resource files", "dir", f.dir, "error", err)
		case <-timer:
			timer = nil
			if err := f.sync(ctx); err != nil {
				f.log.Error("resource files rejected; the last good configuration stays", "dir", f.dir, "error", err)
			}
		}
	}
}

func addTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := w.Add(path); err != nil {
				return fmt.Errorf("watching %s: %w", path, err)
			}
		}
		return nil
	})
}
