package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"

	"github.com/meshgate/meshgate/ca/zonetokens"
	"github.com/meshgate/meshgate/kds"
	"github.com/meshgate/meshgate/store"
)

// multiZone is what --mode global or --mode zone adds to a control plane.
type multiZone struct {
	tokens *zonetokens.Issuer // global
	server *kds.Server        // global
	client *kds.Client        // zone
	// ingressTokens issues and verifies the tokens of this zone's ZoneIngresses (zone).
	ingressTokens *zonetokens.Issuer
}

// setUpMultiZone builds the KDS server (global) or client (zone) once the store exists.
func (cp *ControlPlane) setUpMultiZone() error {
	switch cp.mode {
	case ModeGlobal:
		cp.mz = &multiZone{tokens: zonetokens.New(cp.store, zonetokens.Options{Logger: cp.log})}
		srv, err := kds.NewServer(kds.ServerOptions{Store: cp.store, Verify: cp.mz.tokens.Verify,
			SignIntermediate: cp.signZoneIntermediate(), Logger: cp.log.With("component", "kds"), Registerer: cp.registry})
		if err != nil {
			return err
		}
		cp.mz.server = srv
	case ModeZone:
		mz := cp.cfg.MultiZone
		caPEM, err := os.ReadFile(mz.GlobalCAFile)
		if err != nil {
			return fmt.Errorf("--global-ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return fmt.Errorf("--global-ca-file %s: no PEM certificate", mz.GlobalCAFile)
		}
		hostport, _ := mz.globalHostPort()
		host, _, _ := net.SplitHostPort(hostport)
		tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, ServerName: host}
		token := func() (string, error) {
			b, err := os.ReadFile(mz.ZoneTokenFile)
			if err != nil {
				return "", fmt.Errorf("--zone-token-file: %w", err)
			}
			return strings.TrimSpace(string(b)), nil
		}
		if _, err := token(); err != nil {
			return err
		}
		c, err := kds.NewClient(kds.ClientOptions{Zone: mz.Zone, Address: hostport, TLS: tlsCfg, Token: token,
			Store: cp.store, Logger: cp.log.With("component", "kds"), Registerer: cp.registry})
		if err != nil {
			return err
		}
		cp.mz = &multiZone{client: c, ingressTokens: zonetokens.New(cp.store, zonetokens.Options{Logger: cp.log, Ingress: true})}
	}
	return nil
}

// runMultiZone serves the zones (global) or keeps the sync with global up (zone).
func (cp *ControlPlane) runMultiZone(ctx context.Context, spawn func(string, func() error)) (stop func()) {
	switch {
	case cp.mz == nil:
		return func() {}
	case cp.mz.server != nil:
		// KDS's own message and keepalive limits, with the TLS of the serving certificate (gRPC
		// needs its credentials, not a TLS listener, for the h2 ALPN).
		g := grpc.NewServer(append(kds.GRPCServerOptions(), grpc.Creds(credentials.NewTLS(cp.serving.ServerConfig())))...)
		cp.mz.server.Register(g)
		spawn("KDS server", func() error { return ignoreClosed(g.Serve(cp.kdsLis)) })
		return g.Stop
	default:
		spawn("KDS client", func() error { return cp.mz.client.Run(ctx) })
		return func() {}
	}
}

// signZoneIntermediate is how global answers a zone's request for its intermediate of a
// mesh's builtin CA: signed with the mesh's root, whose key never leaves global.
func (cp *ControlPlane) signZoneIntermediate() func(ctx context.Context, zone, mesh, backend string, csrPEM []byte) ([]byte, error) {
	return func(ctx context.Context, zone, mesh, backend string, csrPEM []byte) ([]byte, error) {
		rec, err := cp.store.Get(ctx, store.Key{Kind: string(api.KindMesh), Name: mesh})
		if err != nil {
			return nil, fmt.Errorf("mesh %q: %w", mesh, err)
		}
		objs, errs := api.Decode(mesh, rec.Spec)
		if len(errs) > 0 || len(objs) != 1 {
			return nil, fmt.Errorf("mesh %q does not decode: %v", mesh, errs)
		}
		m, ok := objs[0].(*api.Mesh)
		if !ok {
			return nil, fmt.Errorf("mesh %q: not a Mesh", mesh)
		}
		return cp.ids.CA().SignZoneIntermediate(ctx, ca.SignZoneRequest{Mesh: m, Backend: backend, Zone: zone, CSRPEM: csrPEM})
	}
}

// zoneIntermediates is, on a zone, how its builtin mesh CAs get their intermediates: from
// global over the sync.
func (cp *ControlPlane) zoneIntermediates() ca.ZoneIntermediatesFunc {
	if cp.mz == nil || cp.mz.client == nil {
		return nil
	}
	return cp.mz.client.SignIntermediate
}
