package agent

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"sort"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/spiffebundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"

	"github.com/meshgate/meshgate/api/client"
)

// Identity is one answer of the identity endpoint, checked and parsed: the SVID the agent
// serves and the bundles beside it.
type Identity struct {
	SVID *x509svid.SVID
	// ChainPEM and KeyPEM are what the control plane sent, written to files verbatim.
	ChainPEM, KeyPEM []byte
	// Bundle is the SVID's own trust domain's; Federated every other mesh's, by trust domain.
	Bundle    *x509bundle.Bundle
	Federated []*x509bundle.Bundle
	NotAfter  time.Time
	RenewAt   time.Time
}

// parseIdentity checks an answer as a Workload API client would (go-spiffe's x509svid: one URI
// SAN, a key that matches the leaf) and that the SVID verifies against its own bundle, so the
// agent never serves or writes something its callers would reject.
func parseIdentity(in *client.DataplaneIdentity) (*Identity, error) {
	svid, err := x509svid.Parse([]byte(in.CertificateChain), []byte(in.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("identity of %s/%s: %w", in.Mesh, in.Name, err)
	}
	if in.SPIFFEID != "" && svid.ID.String() != in.SPIFFEID {
		return nil, fmt.Errorf("identity of %s/%s: certificate is %s, the answer says %s", in.Mesh, in.Name, svid.ID, in.SPIFFEID)
	}
	td := svid.ID.TrustDomain()
	id := &Identity{SVID: svid, ChainPEM: []byte(in.CertificateChain), KeyPEM: []byte(in.PrivateKey),
		NotAfter: in.NotAfter, RenewAt: in.RenewAt}
	names := make([]string, 0, len(in.Bundles))
	for name := range in.Bundles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		btd, err := spiffeid.TrustDomainFromString(name)
		if err != nil {
			return nil, fmt.Errorf("bundle %q: %w", name, err)
		}
		b, err := x509bundle.Parse(btd, []byte(in.Bundles[name]))
		if err != nil {
			return nil, fmt.Errorf("bundle of %s: %w", name, err)
		}
		if btd == td {
			id.Bundle = b
		} else {
			id.Federated = append(id.Federated, b)
		}
	}
	if id.Bundle == nil {
		return nil, fmt.Errorf("identity %s: no bundle for its own trust domain %s", svid.ID, td)
	}
	if _, _, err := x509svid.Verify(svid.Certificates, id.Bundle); err != nil {
		return nil, fmt.Errorf("identity %s does not verify against its own bundle: %w", svid.ID, err)
	}
	return id, nil
}

// bundles is every bundle, own first, then the others by trust domain.
func (id *Identity) bundles() []*x509bundle.Bundle {
	return append([]*x509bundle.Bundle{id.Bundle}, id.Federated...)
}

// bundleMapJSON is gRPC's SPIFFE bundle map (spiffe_trust_bundle_map_file): one SPIFFE bundle
// (a JWKS with x5c) per trust domain, keyed by the bare trust-domain name, which is what gRPC
// looks a peer's trust domain up by.
func (id *Identity) bundleMapJSON() ([]byte, error) {
	var doc struct {
		TrustDomains map[string]json.RawMessage `json:"trust_domains"`
	}
	doc.TrustDomains = map[string]json.RawMessage{}
	for _, b := range id.bundles() {
		jwks, err := spiffebundle.FromX509Bundle(b).Marshal()
		if err != nil {
			return nil, fmt.Errorf("bundle of %s as JWKS: %w", b.TrustDomain(), err)
		}
		doc.TrustDomains[b.TrustDomain().Name()] = jwks
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("SPIFFE bundle map: %w", err)
	}
	return append(out, '\n'), nil
}

// bundlePEM is the own trust domain's roots as PEM.
func (id *Identity) bundlePEM() []byte {
	var out []byte
	for _, c := range id.Bundle.X509Authorities() {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// concatDER is certificates as the Workload API carries them: their DER, back to back.
func concatDER(certs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, c.Raw...)
	}
	return out
}
