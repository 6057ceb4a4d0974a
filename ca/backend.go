package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/smallstep/certificates/cas/apiv1"
	"github.com/smallstep/certificates/cas/softcas"

	"github.com/meshgate/meshgate/ca/stepca"
)

// backend is one loaded CA backend of a mesh: something that signs, and the root it chains to.
type backend struct {
	name string
	typ  string
	cas  apiv1.CertificateAuthorityService
	// external, when set, signs instead of cas: a step-ca that holds its own keys.
	external *stepca.Backend
	// intermediates go out after the leaf: the signing CA and its issuers, without the root,
	// which dataplanes get from the bundle.
	intermediates []*x509.Certificate
	root          *x509.Certificate
	// notBefore and notAfter bound the whole chain's validity: a leaf is useless outside them.
	notBefore    time.Time
	notAfter     time.Time
	leafLifetime time.Duration
}

// newSoftBackend wraps a checked chain (signing CA first, root last) and its key in smallstep's
// softcas.
func newSoftBackend(ctx context.Context, name, typ string, chain []*x509.Certificate, key crypto.Signer, lifetime time.Duration) (*backend, error) {
	cas, err := softcas.New(ctx, apiv1.Options{CertificateChain: chain, Signer: key})
	if err != nil {
		return nil, fmt.Errorf("softcas: %w", err)
	}
	b := &backend{
		name:          name,
		typ:           typ,
		cas:           cas,
		intermediates: chain[:len(chain)-1],
		root:          chain[len(chain)-1],
		notBefore:     chain[0].NotBefore,
		notAfter:      chain[0].NotAfter,
		leafLifetime:  lifetime,
	}
	for _, c := range chain[1:] {
		if c.NotBefore.After(b.notBefore) {
			b.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(b.notAfter) {
			b.notAfter = c.NotAfter
		}
	}
	return b, nil
}

// signingCert is the CA certificate that signs the leaves of a local backend: the first
// intermediate, or the root when there is none.
func (b *backend) signingCert() *x509.Certificate {
	if len(b.intermediates) > 0 {
		return b.intermediates[0]
	}
	return b.root
}
