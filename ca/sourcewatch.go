package ca

import (
	"context"
	"crypto/sha256"
	"os"
	"sort"
	"sync"
	"time"
)

// sourceWatch remembers what each file and Secret a mesh's CA backends were loaded from held,
// so that ReloadChanged can tell when one was replaced. For caches an Authority until the
// Mesh's mtls section changes, but a provided CA's files change without it: cert-manager or a
// Vault agent renewing them, an operator rotating them in place, a Kubernetes Secret volume
// swapping its symlink.
//
// A file is compared by its stat first (identity, size, modification time), and read again only
// when that moved; its content then decides, so touching a file or rewriting it with the same
// bytes reloads nothing. File times are coarse (a few milliseconds), so a stat taken less than
// racyWindow after the file's modification time proves nothing (git's "racy clean" problem: a
// same-size rewrite within the same tick keeps the time); such a file is compared by content
// until it has been still for that long. A file that vanishes is not a change: the loaded CA stays valid, and
// the file usually reappears within a moment (delete-then-create replacement).
type sourceWatch struct {
	mu     sync.Mutex
	seq    uint64
	byMesh map[string]map[source]stamp
}

// source is one place backend material comes from: a file path or a mesh Secret name.
type source struct {
	file, secret string
}

func (s source) String() string {
	if s.file != "" {
		return "file " + s.file
	}
	return "secret " + s.secret
}

// stamp is what a source held when it was last read.
type stamp struct {
	// info is the file's stat taken before it was read (nil for a Secret): any later write
	// moves its modification time away from it.
	info os.FileInfo
	sum  [sha256.Size]byte
	// missing: it could not be read, so any content that appears is a change.
	missing bool
	// at is when info was taken.
	at time.Time
	// seq orders records, so a check does not overwrite a newer read.
	seq uint64
}

// racyWindow: a file modified less than this before it was looked at may change again without
// its stat showing it.
const racyWindow = 2 * time.Second

// settled reports whether the stat alone can vouch for the file: it had been still for a while
// when it was taken.
func (st stamp) settled() bool {
	return st.info != nil && st.at.Sub(st.info.ModTime()) >= racyWindow
}

func sameStat(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

func (w *sourceWatch) record(mesh string, src source, st stamp) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byMesh == nil {
		w.byMesh = map[string]map[source]stamp{}
	}
	if w.byMesh[mesh] == nil {
		w.byMesh[mesh] = map[source]stamp{}
	}
	w.seq++
	st.seq = w.seq
	w.byMesh[mesh][src] = st
}

// readFile reads a data source's file and remembers what it held.
func (w *sourceWatch) readFile(mesh, path string) ([]byte, error) {
	info, statErr := os.Stat(path)
	b, err := os.ReadFile(path)
	if err != nil || statErr != nil {
		w.record(mesh, source{file: path}, stamp{missing: true})
		return b, err
	}
	w.record(mesh, source{file: path}, stamp{info: info, at: time.Now(), sum: sha256.Sum256(b)})
	return b, nil
}

// noteSecret remembers what a Secret data source resolved to (nil, err: it did not).
func (w *sourceWatch) noteSecret(mesh, name string, b []byte, err error) {
	if err != nil {
		w.record(mesh, source{secret: name}, stamp{missing: true})
		return
	}
	w.record(mesh, source{secret: name}, stamp{sum: sha256.Sum256(b)})
}

// check reports whether src holds something other than old, and the stamp to keep.
func (w *sourceWatch) check(ctx context.Context, secrets SecretResolver, mesh string, src source, old stamp) (stamp, bool) {
	if src.secret != "" {
		if secrets == nil {
			return old, false
		}
		b, err := secrets(ctx, mesh, src.secret)
		if err != nil {
			return old, false
		}
		sum := sha256.Sum256(b)
		if !old.missing && sum == old.sum {
			return old, false
		}
		return stamp{sum: sum}, true
	}
	now := time.Now()
	info, err := os.Stat(src.file)
	if err != nil {
		return old, false
	}
	if old.settled() && sameStat(old.info, info) {
		return old, false
	}
	b, err := os.ReadFile(src.file)
	if err != nil {
		return old, false
	}
	sum := sha256.Sum256(b)
	return stamp{info: info, at: now, sum: sum}, old.missing || sum != old.sum
}

// SourceChange names a mesh whose CA backends were loaded from files or Secrets that changed.
type SourceChange struct {
	Mesh string
	// Sources are `file PATH` or `secret NAME`, sorted.
	Sources []string
}

// ReloadChanged checks every file and Secret the meshes' backends were loaded from, and forgets
// the Authority of each mesh where one changed, so that the next For loads it again (the
// caller then rebuilds). Each change is reported once. A mesh whose sources did not change is
// not touched; a mesh that no longer uses a source costs one needless reload when it changes.
func (m *Manager) ReloadChanged(ctx context.Context) []SourceChange {
	w := &m.sources
	w.mu.Lock()
	snapshot := make(map[string]map[source]stamp, len(w.byMesh))
	for mesh, srcs := range w.byMesh {
		snapshot[mesh] = make(map[source]stamp, len(srcs))
		for src, st := range srcs {
			snapshot[mesh][src] = st
		}
	}
	w.mu.Unlock()

	var out []SourceChange
	for mesh, srcs := range snapshot {
		var changed []string
		for src, old := range srcs {
			next, moved := w.check(ctx, m.opts.Secrets, mesh, src, old)
			if next == old {
				continue
			}
			w.mu.Lock()
			// Keep a read that happened meanwhile: it is newer than this check.
			if cur, ok := w.byMesh[mesh][src]; ok && cur.seq == old.seq {
				next.seq = old.seq
				w.byMesh[mesh][src] = next
			} else {
				moved = false
			}
			w.mu.Unlock()
			if moved {
				changed = append(changed, src.String())
			}
		}
		if len(changed) > 0 {
			sort.Strings(changed)
			m.Forget(mesh)
			out = append(out, SourceChange{Mesh: mesh, Sources: changed})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Mesh < out[j].Mesh })
	return out
}
