package stepca

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"time"

	"github.com/smallstep/certificates/authority/provisioner"
	stepclient "github.com/smallstep/certificates/ca"
	"github.com/smallstep/certificates/cas/apiv1"
	"github.com/smallstep/certificates/cas/stepcas"
)

// Backend signs leaves with a remote step-ca. It is safe for concurrent use.
type Backend struct {
	url         string
	provisioner string
	cas         *stepcas.StepCAS
	roots       []*x509.Certificate
	// maxLifetime is the provisioner's advertised maxTLSCertDuration, 0 when it does not
	// advertise one.
	maxLifetime time.Duration
}

// New connects to the step-ca, pins its root, fetches its roots and the provisioner, and
// decrypts the provisioner key. Every error names the URL.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	p, err := cfg.check()
	if err != nil {
		return nil, fmt.Errorf("stepca %s: config: %w", cfg.URL, err)
	}
	b := &Backend{url: cfg.URL, provisioner: cfg.Provisioner}

	client, err := b.pinnedClient(ctx, p)
	if err != nil {
		return nil, err
	}
	if b.roots, err = b.fetchRoots(ctx, client, p.fingerprint); err != nil {
		return nil, err
	}
	jwk, err := b.findProvisioner(ctx, client)
	if err != nil {
		return nil, err
	}
	if c := jwk.Claims; c != nil && c.MaxTLSDur != nil {
		b.maxLifetime = c.MaxTLSDur.Duration
	}

	// stepcas fetches the provisioner's encrypted key again and decrypts it; a wrong password
	// comes back as "failed to decrypt JWE: invalid password".
	b.cas, err = await(ctx, func() (*stepcas.StepCAS, error) {
		return stepcas.New(ctx, apiv1.Options{
			Type:                            string(apiv1.StepCAS),
			CertificateAuthority:            cfg.URL,
			CertificateAuthorityFingerprint: p.fingerprint,
			CertificateIssuer: &apiv1.CertificateIssuer{
				Type:        "jwk",
				Provisioner: cfg.Provisioner,
				Password:    string(cfg.ProvisionerPassword),
			},
		})
	})
	if err != nil {
		return nil, b.errorf(err, "setting up JWK provisioner %q", cfg.Provisioner)
	}
	return b, nil
}

// Roots returns the step-ca's root certificates, the ones the mesh's trust bundle needs.
func (b *Backend) Roots() []*x509.Certificate { return slices.Clone(b.roots) }

// MaxLifetime is the longest leaf the provisioner allows, as it advertises it; 0 when it
// advertises none (step-ca's CA-wide default is then in force, 24 h unless changed).
func (b *Backend) MaxLifetime() time.Duration { return b.maxLifetime }

// URL is the step-ca this backend talks to.
func (b *Backend) URL() string { return b.url }

func (b *Backend) errorf(err error, format string, args ...any) error {
	return fmt.Errorf("stepca %s: %s: %w", b.url, fmt.Sprintf(format, args...), err)
}

// pinnedClient returns a step client whose TLS trusts only the pinned root. With only a
// fingerprint, the root is fetched first (step-ca serves it unauthenticated and the
// fingerprint check makes that safe); done here rather than by ca.WithRootSHA256 because
// that fetch takes no context and has no timeout.
func (b *Backend) pinnedClient(ctx context.Context, p pin) (*stepclient.Client, error) {
	rootPEM := p.rootPEM
	if rootPEM == nil {
		insecure, err := stepclient.NewClient(b.url, stepclient.WithInsecure())
		if err != nil {
			return nil, b.errorf(err, "creating client")
		}
		resp, err := insecure.RootWithContext(ctx, p.fingerprint)
		if err != nil {
			return nil, b.errorf(err, "fetching the root with fingerprint %s", p.fingerprint)
		}
		rootPEM = pemCert(resp.RootPEM.Certificate)
	}
	client, err := stepclient.NewClient(b.url, stepclient.WithCABundle(rootPEM))
	if err != nil {
		return nil, b.errorf(err, "creating client")
	}
	return client, nil
}

// fetchRoots returns every root the CA serves (more than one while the step-ca rotates its
// own root), insisting that the pinned one is among them.
func (b *Backend) fetchRoots(ctx context.Context, client *stepclient.Client, fingerprint string) ([]*x509.Certificate, error) {
	resp, err := client.RootsWithContext(ctx)
	if err != nil {
		return nil, b.errorf(err, "fetching roots")
	}
	var roots []*x509.Certificate
	pinned := false
	now := time.Now()
	for _, c := range resp.Certificates {
		root := c.Certificate
		if root == nil {
			continue
		}
		if !root.IsCA || !root.BasicConstraintsValid {
			return nil, b.errorf(fmt.Errorf("%q is not a CA certificate", root.Subject), "checking roots")
		}
		if now.After(root.NotAfter) {
			return nil, b.errorf(fmt.Errorf("%q expired at %s", root.Subject, root.NotAfter.Format(time.RFC3339)), "checking roots")
		}
		pinned = pinned || fingerprintOf(root) == fingerprint
		roots = append(roots, root)
	}
	if !pinned {
		return nil, b.errorf(fmt.Errorf("none of its %d roots has fingerprint %s", len(roots), fingerprint), "checking roots")
	}
	return roots, nil
}

// findProvisioner looks the provisioner up by name; it must be a JWK one, the only kind
// whose key stepcas can fetch from the CA.
func (b *Backend) findProvisioner(ctx context.Context, client *stepclient.Client) (*provisioner.JWK, error) {
	var names []string
	cursor := ""
	for {
		resp, err := client.ProvisionersWithContext(ctx, stepclient.WithProvisionerCursor(cursor))
		if err != nil {
			return nil, b.errorf(err, "listing provisioners")
		}
		for _, p := range resp.Provisioners {
			if p.GetName() != b.provisioner {
				names = append(names, fmt.Sprintf("%s (%s)", p.GetName(), p.GetType()))
				continue
			}
			jwk, ok := p.(*provisioner.JWK)
			if !ok {
				return nil, b.errorf(fmt.Errorf("it is of type %s; stepcas needs a JWK provisioner", p.GetType()), "provisioner %q", b.provisioner)
			}
			return jwk, nil
		}
		if resp.NextCursor == "" {
			return nil, b.errorf(fmt.Errorf("not found; the CA has %v", names), "provisioner %q", b.provisioner)
		}
		cursor = resp.NextCursor
	}
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
