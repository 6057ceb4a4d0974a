package ca

import (
	"context"
	"fmt"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
)

// providedConf is Kuma's provided CA conf. cert holds the signing CA (a root, or an
// intermediate followed by its issuers up to the root); key is the signing CA's key.
type providedConf struct {
	Cert *api.DataSource `json:"cert"`
	Key  *api.DataSource `json:"key"`
}

func (m *Manager) loadProvided(ctx context.Context, mesh string, b api.CABackend, lifetime time.Duration) (*backend, error) {
	var conf providedConf
	if err := decodeConf(b.Conf, &conf); err != nil {
		return nil, err
	}
	certPEM, err := m.readDataSource(ctx, mesh, "cert", conf.Cert)
	if err != nil {
		return nil, err
	}
	keyPEM, err := m.readDataSource(ctx, mesh, "key", conf.Key)
	if err != nil {
		return nil, err
	}
	chain, err := certs.ParseCertificates(certPEM)
	if err != nil {
		return nil, fmt.Errorf("conf.cert: %w", err)
	}
	key, err := certs.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("conf.key: %w", err)
	}
	if err := checkChain(chain, key, m.opts.Now()); err != nil {
		return nil, err
	}
	return newSoftBackend(ctx, b.Name, b.Type, chain, key, lifetime)
}
