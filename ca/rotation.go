package ca

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
)

// BackendRoot is the root one of a mesh's backends chains to.
type BackendRoot struct {
	Backend string
	Type    string
	Cert    *x509.Certificate
	// Spec is the backend's configuration as JSON: a leaf issued under another configuration
	// (a new lifetime, say) is due for re-issue even when its root did not change.
	Spec string
}

// BackendRoots returns the root of every backend the mesh lists, in the Mesh's order. It loads
// each backend afresh (a step-ca is asked for its roots), so callers cache the result until the
// mesh's mtls section changes.
func (m *Manager) BackendRoots(ctx context.Context, mesh *api.Mesh) ([]BackendRoot, error) {
	// For first: it creates missing builtin roots under the Manager's lock and reports a broken
	// configuration exactly as issuance would.
	if _, err := m.For(ctx, mesh); err != nil {
		return nil, err
	}
	out := make([]BackendRoot, 0, len(mesh.Spec.MTLS.Backends))
	for _, b := range mesh.Spec.MTLS.Backends {
		be, err := m.loadBackend(ctx, mesh.Name, mesh.CreationTime, b)
		if err != nil {
			return nil, &BackendError{Mesh: mesh.Name, Backend: b.Name, Type: b.Type, Err: err}
		}
		spec, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("mesh %q: backend %q: %w", mesh.Name, b.Name, err)
		}
		out = append(out, BackendRoot{Backend: b.Name, Type: b.Type, Cert: be.root, Spec: string(spec)})
	}
	return out, nil
}

// Fingerprint is the SHA-256 of a certificate's DER, in hex: how roots are told apart (two
// builtin roots of one mesh have the same subject).
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// RetiringRoot is a root no backend of the mesh provides any more, kept in the mesh's bundle
// because leaves handed out before the change still chain to it.
type RetiringRoot struct {
	// Backend is the backend it came from, for operators.
	Backend string
	Cert    *x509.Certificate
	// Until is when the last leaf known to chain to it expires: past it nothing can depend on
	// the root, even if every dataplane holding such a leaf has been out of reach.
	Until time.Time
}

type retiringState struct {
	Roots []retiringEntry `json:"roots"`
}

type retiringEntry struct {
	Backend string    `json:"backend"`
	Cert    string    `json:"cert"`
	Until   time.Time `json:"until"`
}

// retiringKey is outside the `ca/<mesh>/<backend>` space of builtin roots: a backend may well
// be called "retiring".
func retiringKey(mesh string) string { return "ca-rotation/" + mesh + "/retiring" }

// LoadRetiring returns the mesh's persisted retiring roots and the state's version, 0 when
// nothing was ever stored.
func (m *Manager) LoadRetiring(ctx context.Context, mesh string) ([]RetiringRoot, int64, error) {
	raw, version, err := m.store.GetState(ctx, retiringKey(mesh))
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("mesh %q: load retiring roots: %w", mesh, err)
	}
	var st retiringState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, 0, fmt.Errorf("mesh %q: stored retiring roots: %w", mesh, err)
	}
	out := make([]RetiringRoot, 0, len(st.Roots))
	for _, e := range st.Roots {
		cs, err := certs.ParseCertificates([]byte(e.Cert))
		if err != nil {
			return nil, 0, fmt.Errorf("mesh %q: stored retiring root of %q: %w", mesh, e.Backend, err)
		}
		if len(cs) != 1 {
			return nil, 0, fmt.Errorf("mesh %q: stored retiring root of %q: %d certificates, want 1", mesh, e.Backend, len(cs))
		}
		out = append(out, RetiringRoot{Backend: e.Backend, Cert: cs[0], Until: e.Until})
	}
	return out, version, nil
}

// SaveRetiring replaces the mesh's retiring roots. version is what LoadRetiring or the last
// SaveRetiring returned: another control plane's write in between is store.ErrConflict, so
// that no root it still needs is dropped blindly.
func (m *Manager) SaveRetiring(ctx context.Context, mesh string, roots []RetiringRoot, version int64) (int64, error) {
	st := retiringState{Roots: make([]retiringEntry, 0, len(roots))}
	for _, r := range roots {
		st.Roots = append(st.Roots, retiringEntry{Backend: r.Backend, Cert: string(certs.EncodeCertificates(r.Cert)), Until: r.Until.UTC()})
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return 0, fmt.Errorf("mesh %q: retiring roots: %w", mesh, err)
	}
	if version == 0 {
		version = -1
	}
	v, err := m.store.PutState(ctx, retiringKey(mesh), raw, version)
	if err != nil {
		return 0, fmt.Errorf("mesh %q: save retiring roots: %w", mesh, err)
	}
	return v, nil
}
