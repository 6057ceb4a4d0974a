package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
)

// DefaultZoneIntermediateLifetime caps a zone intermediate's validity (the root's remaining
// validity caps it too). A zone renews at 2/3 of it, so a zone cut off from global keeps
// issuing for months, and a revoked zone loses its CA within this time at the latest.
const DefaultZoneIntermediateLifetime = 365 * 24 * time.Hour

// SignZoneRequest asks global to sign a zone's intermediate for one mesh's builtin backend.
type SignZoneRequest struct {
	Mesh    *api.Mesh // as global holds it
	Backend string    // the builtin backend's name
	Zone    string
	CSRPEM  []byte
}

// zoneIntermediate is one intermediate issued to a zone, as global records it.
type zoneIntermediate struct {
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"notAfter"`
	Revoked  bool      `json:"revoked,omitempty"`
}

// zonesState is every zone's intermediates of one builtin backend, by zone, in one entry (the
// store has no listing of state keys, and the CRL needs them all).
type zonesState struct {
	Zones map[string][]zoneIntermediate `json:"zones"`
}

func zonesStateKey(mesh, backendName string) string {
	return stateKey(mesh, backendName) + "/zones"
}

// rootOf loads (creating if needed) the mesh's builtin backend named backendName on global and
// returns its root and the root's key.
func (m *Manager) rootOf(ctx context.Context, mesh *api.Mesh, backendName string) (*x509.Certificate, crypto.Signer, certs.KeySpec, error) {
	var spec certs.KeySpec
	if mesh == nil || mesh.Spec.MTLS == nil {
		return nil, nil, spec, errors.New("mesh has no mtls backends")
	}
	var b *api.CABackend
	for i := range mesh.Spec.MTLS.Backends {
		if mesh.Spec.MTLS.Backends[i].Name == backendName {
			b = &mesh.Spec.MTLS.Backends[i]
		}
	}
	switch {
	case b == nil:
		return nil, nil, spec, fmt.Errorf("mesh %q has no CA backend %q", mesh.Name, backendName)
	case b.Type != api.CABackendBuiltin:
		return nil, nil, spec, fmt.Errorf("mesh %q backend %q is of type %q: only a builtin backend signs zone intermediates", mesh.Name, backendName, b.Type)
	}
	var conf builtinConf
	if err := decodeConf(b.Conf, &conf); err != nil {
		return nil, nil, spec, err
	}
	spec, _, err := m.builtinParams(conf)
	if err != nil {
		return nil, nil, spec, err
	}
	lifetime, err := leafLifetime(*b)
	if err != nil {
		return nil, nil, spec, err
	}
	if _, err := m.loadBuiltin(ctx, mesh.Name, mesh.CreationTime, *b, lifetime); err != nil {
		return nil, nil, spec, err
	}
	val, _, err := m.store.GetState(ctx, stateKey(mesh.Name, backendName))
	if err != nil {
		return nil, nil, spec, fmt.Errorf("load root: %w", err)
	}
	var st builtinState
	if err := json.Unmarshal(val, &st); err != nil {
		return nil, nil, spec, fmt.Errorf("stored root: %w", err)
	}
	chain, err := certs.ParseCertificates([]byte(st.Cert))
	if err != nil || len(chain) != 1 {
		return nil, nil, spec, fmt.Errorf("stored root: %d certificates, %v", len(chain), err)
	}
	key, err := certs.ParsePrivateKey([]byte(st.Key))
	if err != nil {
		return nil, nil, spec, fmt.Errorf("stored root: %w", err)
	}
	return chain[0], key, spec, nil
}

// SignZoneIntermediate signs zone's CSR as an intermediate of the mesh's builtin root and
// returns PEM of [intermediate, root]. The root key never leaves global.
func (m *Manager) SignZoneIntermediate(ctx context.Context, req SignZoneRequest) ([]byte, error) {
	if req.Zone == "" {
		return nil, errors.New("sign zone intermediate: zone is empty")
	}
	name := "<nil>"
	if req.Mesh != nil {
		name = req.Mesh.Name
	}
	wrap := func(err error) error {
		return fmt.Errorf("sign intermediate for zone %q, mesh %q, backend %q: %w", req.Zone, name, req.Backend, err)
	}
	if err := m.refuseRevokedZone(ctx, name, req.Backend, req.Zone); err != nil {
		return nil, wrap(err)
	}
	root, rootKey, spec, err := m.rootOf(ctx, req.Mesh, req.Backend)
	if err != nil {
		return nil, wrap(err)
	}
	csr, err := parseCSR(req.CSRPEM, spec)
	if err != nil {
		return nil, wrap(err)
	}
	td, err := certs.TrustDomain(name)
	if err != nil {
		return nil, wrap(err)
	}
	serial, err := certs.NewSerial()
	if err != nil {
		return nil, wrap(err)
	}
	now := m.opts.Now()
	notAfter := now.Add(DefaultZoneIntermediateLifetime)
	if root.NotAfter.Before(notAfter) {
		notAfter = root.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization:       []string{"Kuma"},
			OrganizationalUnit: []string{"Mesh", "Zone " + req.Zone},
			CommonName:         name + " zone " + req.Zone,
		},
		URIs:                  []*url.URL{td.ID().URL()},
		NotBefore:             now.Add(-m.opts.Backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// The mesh's trust domain, and kuma.io for the `kuma://kuma.io/service/...` URIs Kuma
		// puts in leaves next to the SPIFFE ID: a zone cannot mint identities of another mesh.
		PermittedURIDomains: []string{td.String(), "kuma.io"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root, csr.PublicKey, rootKey)
	if err != nil {
		return nil, wrap(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, wrap(err)
	}
	if err := m.recordZone(ctx, name, req.Backend, req.Zone, func(in *[]zoneIntermediate) {
		*in = append(*in, zoneIntermediate{Serial: serial.String(), NotAfter: cert.NotAfter})
	}); err != nil {
		return nil, wrap(err)
	}
	return certs.EncodeCertificates(cert, root), nil
}

func parseCSR(data []byte, spec certs.KeySpec) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("CSR: no CERTIFICATE REQUEST PEM block")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CSR: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("CSR signature: %w", err)
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if spec.Type == certs.KeyRSA {
			return nil, fmt.Errorf("CSR: ECDSA key, the backend wants %s", spec)
		}
		if k.Curve.Params().BitSize < 256 {
			return nil, fmt.Errorf("CSR: ECDSA curve %s is too weak", k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if spec.Type != certs.KeyRSA {
			return nil, fmt.Errorf("CSR: RSA key, the backend wants %s", spec)
		}
		if k.N.BitLen() < spec.Bits {
			return nil, fmt.Errorf("CSR: RSA %d bits, the backend wants %s", k.N.BitLen(), spec)
		}
	default:
		return nil, fmt.Errorf("CSR: unsupported key type %T", csr.PublicKey)
	}
	return csr, nil
}

// recordZone applies change to the zone's record at the version read.
func (m *Manager) recordZone(ctx context.Context, mesh, backendName, zone string, change func(*[]zoneIntermediate)) error {
	key := zonesStateKey(mesh, backendName)
	for range 5 {
		var st zonesState
		val, version, err := m.store.GetState(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			version = -1
		case err != nil:
			return fmt.Errorf("state %s: %w", key, err)
		default:
			if err := json.Unmarshal(val, &st); err != nil {
				return fmt.Errorf("state %s: %w", key, err)
			}
		}
		if st.Zones == nil {
			st.Zones = map[string][]zoneIntermediate{}
		}
		in := st.Zones[zone]
		change(&in)
		st.Zones[zone] = in
		if val, err = json.Marshal(st); err != nil {
			return err
		}
		if _, err = m.store.PutState(ctx, key, val, version); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("state %s: %w", key, err)
		}
	}
	return fmt.Errorf("state %s keeps changing", key)
}

// RevokeZoneIntermediates marks every intermediate issued to zone for the mesh's backend revoked.
func (m *Manager) RevokeZoneIntermediates(ctx context.Context, mesh, backendName, zone string) error {
	return m.recordZone(ctx, mesh, backendName, zone, func(in *[]zoneIntermediate) {
		for i := range *in {
			(*in)[i].Revoked = true
		}
	})
}

// CRL returns a PEM CRL, signed by the root of the mesh's enabled builtin backend, listing
// the revoked zone intermediates of that backend that have not expired.
func (m *Manager) CRL(ctx context.Context, mesh *api.Mesh) ([]byte, error) {
	if mesh == nil || !mesh.Spec.MTLSEnabled() {
		return nil, errors.New("crl: mesh has no mtls")
	}
	backendName := mesh.Spec.MTLS.EnabledBackend
	root, key, _, err := m.rootOf(ctx, mesh, backendName)
	if err != nil {
		return nil, fmt.Errorf("crl of mesh %q: %w", mesh.Name, err)
	}
	now := m.opts.Now()
	var entries []x509.RevocationListEntry
	var st zonesState
	val, _, err := m.store.GetState(ctx, zonesStateKey(mesh.Name, backendName))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("crl of mesh %q: %w", mesh.Name, err)
	default:
		if err := json.Unmarshal(val, &st); err != nil {
			return nil, fmt.Errorf("crl of mesh %q: %w", mesh.Name, err)
		}
	}
	for _, ins := range st.Zones {
		for _, in := range ins {
			if !in.Revoked || in.NotAfter.Before(now) {
				continue
			}
			serial, ok := new(big.Int).SetString(in.Serial, 10)
			if !ok {
				return nil, fmt.Errorf("crl of mesh %q: bad serial %q", mesh.Name, in.Serial)
			}
			entries = append(entries, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: now})
		}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(now.UnixNano()),
		ThisUpdate:                now.Add(-m.opts.Backdate),
		NextUpdate:                now.Add(24 * time.Hour),
		RevokedCertificateEntries: entries,
	}, root, key)
	if err != nil {
		return nil, fmt.Errorf("crl of mesh %q: %w", mesh.Name, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}

// ErrZoneRevoked: the zone's intermediates were revoked; it gets no new one.
var ErrZoneRevoked = errors.New("the zone's intermediates were revoked")

// refuseRevokedZone keeps a revoked zone from replacing its revoked intermediate: otherwise
// revoking would cut a compromised zone off only until it asked again.
func (m *Manager) refuseRevokedZone(ctx context.Context, mesh, backendName, zone string) error {
	key := zonesStateKey(mesh, backendName)
	val, _, err := m.store.GetState(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state %s: %w", key, err)
	}
	var st zonesState
	if err := json.Unmarshal(val, &st); err != nil {
		return fmt.Errorf("state %s: %w", key, err)
	}
	for _, in := range st.Zones[zone] {
		if in.Revoked {
			return ErrZoneRevoked
		}
	}
	return nil
}
