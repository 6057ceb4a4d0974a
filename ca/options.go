package ca

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meshgate/meshgate/certs"
)

// SecretResolver returns the bytes of a mesh-scoped Secret resource, for `{secret: name}` data
// sources (already base64-decoded).
type SecretResolver func(ctx context.Context, mesh, name string) ([]byte, error)

// Defaults, as in Kuma unless said otherwise.
const (
	DefaultLeafLifetime = 24 * time.Hour
	DefaultRootLifetime = 10 * 365 * 24 * time.Hour
	// DefaultBackdate moves NotBefore into the past so that a peer whose clock is behind ours
	// still accepts a fresh certificate. Kuma backdates 10 s; step-ca, 1 min. Dataplanes on VMs
	// without tight NTP drift by more than 10 s, and a minute costs nothing against 24 h.
	DefaultBackdate = time.Minute
)

// Options tune a Manager. The zero value is the production configuration.
type Options struct {
	// Secrets resolves `secret:` data sources; nil makes them an error.
	Secrets SecretResolver
	// LeafKey is the key type of workload certificates: ECDSA P-256 unless set.
	LeafKey certs.KeySpec
	// Backdate: DefaultBackdate when 0.
	Backdate time.Duration
	// RootLifetime of a new builtin root when its conf sets no caCert.expiration.
	RootLifetime time.Duration
	// Now is the clock; tests move it.
	Now func() time.Time
	// ZoneIntermediates, set in zone mode, makes every builtin backend an intermediate that
	// global signs (see loadZoneBuiltin); the zone never creates or holds a root key.
	ZoneIntermediates ZoneIntermediatesFunc
}

func (o Options) withDefaults() (Options, error) {
	if err := o.LeafKey.Validate(); err != nil {
		return o, fmt.Errorf("ca: leaf key: %w", err)
	}
	switch {
	case o.Backdate < 0:
		return o, errors.New("ca: backdate must not be negative")
	case o.Backdate == 0:
		o.Backdate = DefaultBackdate
	}
	switch {
	case o.RootLifetime < 0:
		return o, errors.New("ca: root lifetime must not be negative")
	case o.RootLifetime == 0:
		o.RootLifetime = DefaultRootLifetime
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}
