package identity

import (
	"context"
	"sort"
	"time"

	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/model"
)

// CAStatus is a mesh's CA as GET /meshes/{mesh}/ca shows it.
type CAStatus struct {
	Mesh           string         `json:"mesh"`
	EnabledBackend string         `json:"enabledBackend"`
	EnabledSince   time.Time      `json:"enabledSince,omitzero"`
	Roots          []RootStatus   `json:"roots"`
	Rotation       RotationStatus `json:"rotation"`
}

// RootStatus is one root of the mesh's trust bundle.
type RootStatus struct {
	// Backend is the backend providing the root, or "retiring" for a root kept only while
	// leaves still chain to it.
	Backend string `json:"backend"`
	// RetiredFrom names the backend a retiring root came from.
	RetiredFrom string    `json:"retiredFrom,omitempty"`
	Enabled     bool      `json:"enabled,omitempty"`
	Subject     string    `json:"subject"`
	SHA256      string    `json:"sha256"`
	NotAfter    time.Time `json:"notAfter"`
	// DropAt is when a retiring root leaves the bundle unless a leaf comes to depend on it.
	DropAt *time.Time `json:"dropAt,omitempty"`
	// Leaves is how many dataplanes hold a live leaf chaining to this root.
	Leaves int `json:"leaves"`
}

// RotationStatus is how far the mesh's dataplanes are in moving to the enabled backend.
type RotationStatus struct {
	// LeavesByBackend counts dataplanes by the backend their current leaf came from.
	LeavesByBackend map[string]int `json:"leavesByBackend"`
	// PendingReissues counts dataplanes whose leaf is still from another backend (or an older
	// configuration of the enabled one).
	PendingReissues int `json:"pendingReissues"`
	// NextReissueAt is the earliest scheduled re-issue.
	NextReissueAt *time.Time `json:"nextReissueAt,omitempty"`
	// RetiringDroppedBy is when the last retiring root is expected to leave the bundle, if all
	// pending re-issues happen as scheduled: the latest DropAt.
	RetiringDroppedBy *time.Time `json:"retiringDroppedBy,omitempty"`
	// RatePerSecond is the re-issue cap (0: none).
	RatePerSecond float64 `json:"ratePerSecond"`
	Complete      bool    `json:"complete"`
}

// Status reports a mesh's trust and rotation progress. It reads the state the last rebuild
// left and changes nothing.
func (i *Service) Status(ctx context.Context, mesh *model.Mesh) (CAStatus, error) {
	roots, err := i.ca.BackendRoots(ctx, mesh.Resource)
	if err != nil {
		return CAStatus{}, err
	}
	now := i.now()
	st := CAStatus{Mesh: mesh.Name, EnabledBackend: mesh.Resource.Spec.MTLS.EnabledBackend, Roots: []RootStatus{}}
	st.Rotation.LeavesByBackend = map[string]int{}
	st.Rotation.RatePerSecond = max(i.opts.Rate, 0)

	i.mu.Lock()
	held := i.heldLocked(mesh.Name, now)
	enabledFP, enabledSpec := "", ""
	for _, b := range roots {
		if b.Backend == st.EnabledBackend {
			enabledFP, enabledSpec = ca.Fingerprint(b.Cert), b.Spec
		}
	}
	var next time.Time
	for _, c := range i.byNode {
		if c.mesh != mesh.Name || !c.live(now) {
			continue
		}
		st.Rotation.LeavesByBackend[c.backend]++
		if c.rootFP != enabledFP || c.spec != enabledSpec {
			st.Rotation.PendingReissues++
			next = earliest(next, c.reissueAt)
		}
	}
	i.mu.Unlock()

	seen := map[string]bool{}
	for _, b := range roots {
		fp := ca.Fingerprint(b.Cert)
		if seen[fp] {
			continue
		}
		seen[fp] = true
		st.Roots = append(st.Roots, RootStatus{
			Backend: b.Backend, Enabled: b.Backend == st.EnabledBackend, Subject: b.Cert.Subject.String(),
			SHA256: fp, NotAfter: b.Cert.NotAfter, Leaves: held[fp].leaves,
		})
	}
	var droppedBy time.Time
	for _, rr := range i.rot.retiring(mesh.Name) {
		if seen[rr.fp] {
			continue
		}
		drop := rr.dropAt()
		if rr.tracked && held[rr.fp].leaves > 0 {
			// Still in use: it goes a settle time after the last scheduled re-issue.
			drop = earliest(rr.Until, latestReissue(i, mesh.Name, rr.fp).Add(rr.settle))
		}
		if drop.After(droppedBy) {
			droppedBy = drop
		}
		st.Roots = append(st.Roots, RootStatus{
			Backend: "retiring", RetiredFrom: rr.Backend, Subject: rr.Cert.Subject.String(), SHA256: rr.fp,
			NotAfter: rr.Cert.NotAfter, DropAt: &drop, Leaves: held[rr.fp].leaves,
		})
	}
	if !next.IsZero() {
		st.Rotation.NextReissueAt = &next
	}
	if !droppedBy.IsZero() {
		st.Rotation.RetiringDroppedBy = &droppedBy
	}
	st.Rotation.Complete = st.Rotation.PendingReissues == 0 && droppedBy.IsZero()
	st.EnabledSince = i.rot.enabledSince(mesh.Name)
	sort.SliceStable(st.Roots, func(a, b int) bool { return st.Roots[a].Enabled && !st.Roots[b].Enabled })
	return st, nil
}

// latestReissue is the last scheduled re-issue among leaves chaining to a root; now when one
// is overdue or not yet scheduled.
func latestReissue(i *Service, mesh, fp string) time.Time {
	i.mu.Lock()
	defer i.mu.Unlock()
	now := i.now()
	latest := now
	for _, c := range i.byNode {
		if c.mesh == mesh && c.rootFP == fp && c.reissueAt.After(latest) {
			latest = c.reissueAt
		}
	}
	return latest
}

// retiring returns copies of the mesh's retiring roots.
func (r *rotations) retiring(mesh string) []retiringRoot {
	r.mu.Lock()
	defer r.mu.Unlock()
	mr := r.meshes[mesh]
	if mr == nil {
		return nil
	}
	out := make([]retiringRoot, 0, len(mr.retiring))
	for _, rr := range mr.retiring {
		out = append(out, *rr)
	}
	return out
}

func (r *rotations) enabledSince(mesh string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if mr := r.meshes[mesh]; mr != nil {
		return mr.enabledSince
	}
	return time.Time{}
}
