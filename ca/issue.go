package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/smallstep/certificates/cas/apiv1"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/meshgate/meshgate/ca/stepca"
	"github.com/meshgate/meshgate/certs"
)

// meshCA is the Authority of one mesh. It is immutable once built, so Issue needs no lock.
type meshCA struct {
	mesh     string
	issuer   *backend
	bundle   *x509bundle.Bundle
	leafKey  certs.KeySpec
	backdate time.Duration
	now      func() time.Time
}

func (a *meshCA) Bundle(context.Context) (*x509bundle.Bundle, error) {
	return a.bundle.Clone(), nil
}

func (a *meshCA) Issue(ctx context.Context, req IssueRequest) (Issued, error) {
	if err := ctx.Err(); err != nil {
		return Issued{}, err
	}
	if req.Mesh != a.mesh {
		return Issued{}, fmt.Errorf("mesh %q: refusing to issue for mesh %q", a.mesh, req.Mesh)
	}
	out, err := a.issue(ctx, req)
	if err != nil {
		return Issued{}, &BackendError{Mesh: a.mesh, Backend: a.issuer.name, Type: a.issuer.typ, Err: fmt.Errorf("issue: %w", err)}
	}
	return out, nil
}

func (a *meshCA) issue(ctx context.Context, req IssueRequest) (Issued, error) {
	uris, err := certs.Identity{Mesh: a.mesh, Services: req.Services, Tags: req.Tags}.URIs()
	if err != nil {
		return Issued{}, err
	}
	lifetime := a.issuer.leafLifetime
	switch {
	case req.Lifetime < 0:
		return Issued{}, errors.New("lifetime must not be negative")
	case req.Lifetime > 0:
		lifetime = req.Lifetime
	}
	now := a.now()
	notBefore, notAfter := now.Add(-a.backdate), now.Add(lifetime)
	// A leaf outliving its chain is rejected by every peer once the chain expires, so it is
	// cut at the chain's end and renews (at 80 % of that shorter life) before then.
	if notAfter.After(a.issuer.notAfter) {
		notAfter = a.issuer.notAfter
	}
	if notBefore.Before(a.issuer.notBefore) {
		notBefore = a.issuer.notBefore
	}
	if !notAfter.After(now) {
		return Issued{}, fmt.Errorf("%w: the chain ends at %s", ErrExpired, a.issuer.notAfter.UTC().Format(time.RFC3339))
	}

	key, err := certs.GenerateKey(a.leafKey)
	if err != nil {
		return Issued{}, err
	}
	serial, err := certs.NewSerial()
	if err != nil {
		return Issued{}, err
	}
	tmpl, err := certs.LeafTemplate(certs.LeafParams{URIs: uris, PublicKey: key.Public(), Serial: serial, NotBefore: notBefore, NotAfter: notAfter})
	if err != nil {
		return Issued{}, err
	}
	chain, err := a.sign(ctx, tmpl, key, now, notBefore, notAfter)
	if err != nil {
		return Issued{}, err
	}
	want := leafWant{parent: a.issuer.signingCert(), uris: uris, key: key, notBefore: a.issuer.notBefore, notAfter: a.issuer.notAfter, now: now}
	if a.issuer.external != nil {
		if len(chain) > 1 {
			want.parent = chain[1]
		}
		want.notBefore = time.Time{} // step-ca backdates its leaves itself
	}
	if err := checkLeaf(chain[0], want); err != nil {
		return Issued{}, fmt.Errorf("issued certificate %s: %w", uris[0], err)
	}
	keyPEM, err := certs.EncodePrivateKey(key)
	if err != nil {
		return Issued{}, err
	}
	leaf := chain[0]
	return Issued{
		CertPEM:   certs.EncodeCertificates(chain...),
		KeyPEM:    keyPEM,
		NotBefore: leaf.NotBefore,
		NotAfter:  leaf.NotAfter,
		RenewAt:   now.Add(leaf.NotAfter.Sub(now) * 4 / 5),
		Backend:   a.issuer.name,
	}, nil
}

// sign has the mesh's backend sign the leaf and returns its chain, leaf first.
//
// A leaf signed here (builtin and provided backends) is not verified again against the bundle:
// x509.CreateCertificate checks the signature it produced with the CA's public key before
// returning it, and that CA certificate was checked to chain to the bundle's root when the
// backend was loaded (checkChain). A second ECDSA verification would cost more than the
// signature itself. A remote signer (step-ca) is not trusted to be right: its chain is
// verified in full against the mesh bundle.
func (a *meshCA) sign(ctx context.Context, tmpl *x509.Certificate, key crypto.Signer, now, notBefore, notAfter time.Time) ([]*x509.Certificate, error) {
	if ext := a.issuer.external; ext != nil {
		chain, err := ext.Sign(ctx, stepca.SignRequest{Template: tmpl, Signer: key, Lifetime: notAfter.Sub(now)})
		if err != nil {
			return nil, fmt.Errorf("sign: %w", err)
		}
		if _, err := certs.VerifySVID(chain, a.bundle, now); err != nil {
			return nil, fmt.Errorf("issued certificate does not verify against the mesh bundle: %w", err)
		}
		return chain, nil
	}
	resp, err := a.issuer.cas.CreateCertificate(&apiv1.CreateCertificateRequest{Template: tmpl, Lifetime: notAfter.Sub(now), Backdate: now.Sub(notBefore)})
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	chain := make([]*x509.Certificate, 0, 1+len(a.issuer.intermediates))
	return append(append(chain, resp.Certificate), a.issuer.intermediates...), nil
}
