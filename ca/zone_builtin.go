package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
)

// ZoneIntermediatesFunc asks global to sign csrPEM as the zone's intermediate for a mesh's
// builtin backend and returns PEM of [intermediate, root].
type ZoneIntermediatesFunc func(ctx context.Context, mesh, backend string, csrPEM []byte) ([]byte, error)

// loadZoneBuiltin is a builtin backend in zone mode: the zone never has the root's key; it
// signs with an intermediate global signed, stored under the same key a root would be (the
// chain [intermediate, root] in Cert). The stored intermediate is reused until 2/3 of its life;
// then a new one is requested, and a root that changed on global comes back with it.
func (m *Manager) loadZoneBuiltin(ctx context.Context, mesh string, created time.Time, b api.CABackend, lifetime time.Duration) (*backend, error) {
	var conf builtinConf
	if err := decodeConf(b.Conf, &conf); err != nil {
		return nil, err
	}
	spec, _, err := m.builtinParams(conf)
	if err != nil {
		return nil, err
	}
	key := stateKey(mesh, b.Name)
	created = created.UTC()
	val, version, err := m.store.GetState(ctx, key)
	expected := int64(-1)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("load zone intermediate: %w", err)
	default:
		expected = version
		var st builtinState
		if json.Unmarshal(val, &st) == nil && m.rootBelongs(st, created) && m.zoneChainFresh(st) {
			if be, err := m.builtinFromZoneState(ctx, b, val, lifetime); err == nil {
				return be, nil
			}
		}
	}
	signer, err := certs.GenerateKey(spec)
	if err != nil {
		return nil, fmt.Errorf("zone intermediate key: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: mesh}}, signer)
	if err != nil {
		return nil, fmt.Errorf("zone intermediate CSR: %w", err)
	}
	chainPEM, err := m.opts.ZoneIntermediates(ctx, mesh, b.Name, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	if err != nil {
		return nil, fmt.Errorf("getting the zone's intermediate from global (the mesh's dataplanes get no identities until this zone reaches global once): %w", err)
	}
	chain, err := certs.ParseCertificates(chainPEM)
	if err != nil {
		return nil, fmt.Errorf("intermediate from global: %w", err)
	}
	if len(chain) != 2 {
		return nil, fmt.Errorf("intermediate from global: %d certificates, want [intermediate, root]", len(chain))
	}
	if !chain[0].IsCA || !chain[1].IsCA {
		return nil, errors.New("intermediate from global: not a CA chain")
	}
	if err := chain[0].CheckSignatureFrom(chain[1]); err != nil {
		return nil, fmt.Errorf("intermediate from global: not signed by the root: %w", err)
	}
	if err := checkChain(chain, signer, m.opts.Now()); err != nil {
		return nil, fmt.Errorf("intermediate from global: %w", err)
	}
	keyPEM, err := certs.EncodePrivateKey(signer)
	if err != nil {
		return nil, err
	}
	val, err = json.Marshal(builtinState{MeshCreated: created, Cert: string(chainPEM), Key: string(keyPEM)})
	if err != nil {
		return nil, err
	}
	if _, err := m.store.PutState(ctx, key, val, expected); err != nil {
		// Another process of this zone stored one meanwhile: use it (this one is wasted).
		if errors.Is(err, store.ErrConflict) {
			if val, _, err = m.store.GetState(ctx, key); err == nil {
				return m.builtinFromZoneState(ctx, b, val, lifetime)
			}
		}
		return nil, fmt.Errorf("save zone intermediate: %w", err)
	}
	return newSoftBackend(ctx, b.Name, b.Type, chain, signer, lifetime)
}

// zoneChainFresh: a stored zone chain is used until 2/3 of its intermediate's life.
func (m *Manager) zoneChainFresh(st builtinState) bool {
	chain, err := certs.ParseCertificates([]byte(st.Cert))
	if err != nil || len(chain) != 2 {
		return false
	}
	life := chain[0].NotAfter.Sub(chain[0].NotBefore)
	return m.opts.Now().Before(chain[0].NotBefore.Add(life * 2 / 3))
}

func (m *Manager) builtinFromZoneState(ctx context.Context, b api.CABackend, val []byte, lifetime time.Duration) (*backend, error) {
	var st builtinState
	if err := json.Unmarshal(val, &st); err != nil {
		return nil, fmt.Errorf("stored zone intermediate: %w", err)
	}
	chain, err := certs.ParseCertificates([]byte(st.Cert))
	if err != nil {
		return nil, fmt.Errorf("stored zone intermediate: %w", err)
	}
	key, err := certs.ParsePrivateKey([]byte(st.Key))
	if err != nil {
		return nil, fmt.Errorf("stored zone intermediate: %w", err)
	}
	if len(chain) != 2 {
		return nil, fmt.Errorf("stored zone intermediate: %d certificates, want 2", len(chain))
	}
	if err := checkChain(chain, key, m.opts.Now()); err != nil {
		return nil, fmt.Errorf("stored zone intermediate: %w", err)
	}
	return newSoftBackend(ctx, b.Name, b.Type, chain, key, lifetime)
}
