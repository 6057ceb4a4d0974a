package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/bootstrap"
)

// controlPlaneCAFile is where `bootstrap --proxyless` stores the control plane's CA when it
// fetched it from the API: gRPC's TLS channel credentials read a file, not inline PEM.
const controlPlaneCAFile = "controlplane_ca.pem"

// proxylessOptions are `meshgate bootstrap`'s flags for a proxyless (gRPC) dataplane.
type proxylessOptions struct {
	enabled bool
	certDir string
	refresh time.Duration
}

func proxylessFlags(cmd *cobra.Command) *proxylessOptions {
	o := &proxylessOptions{}
	f := cmd.Flags()
	f.BoolVar(&o.enabled, "proxyless", false, "print the gRPC xDS bootstrap (JSON, for GRPC_XDS_BOOTSTRAP) of a Dataplane labelled "+
		api.ProxyTypeLabel+": "+api.ProxyTypeProxyless+" instead of Envoy's; run the application with "+
		bootstrap.EnvCallCreds+"=true (the token) and, to call or be called across meshes, "+bootstrap.EnvSPIFFE+"=true")
	f.StringVar(&o.certDir, "cert-dir", ".", "with --proxyless: the directory holding the files `meshgate agent` writes and gRPC's certificate providers watch: "+
		bootstrap.SVIDFile+", "+bootstrap.SVIDKeyFile+", "+bootstrap.BundleFile+" (own mesh's roots), "+bootstrap.SPIFFEBundleMapFile+
		" (every mesh's roots); the control plane's CA goes to "+controlPlaneCAFile+" there when fetched from the API")
	f.DurationVar(&o.refresh, "cert-refresh-interval", bootstrap.DefaultRefreshInterval, "with --proxyless: how often gRPC re-reads the certificate files "+
		"(keep it well under the leaf lifetime's last fifth, when the agent has already written the renewed one)")
	return o
}

// run prints (or writes to out) the gRPC bootstrap. The token is not copied into it: gRPC
// reads the token file itself, so the bootstrap holds no secret.
func (o *proxylessOptions) run(cmd *cobra.Command, dp *api.Dataplane, tokenFile string, cps []string, cpCA string, insecure bool, out string, copts *clientOptions) error {
	if dp == nil {
		return &exitError{code: 1, err: errors.New("--proxyless: the file must hold a Dataplane")}
	}
	certDir, err := filepath.Abs(o.certDir)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("--cert-dir: %w", err)}
	}
	if o.refresh < time.Second {
		return &exitError{code: 1, err: fmt.Errorf("--cert-refresh-interval %s: want at least 1s", o.refresh)}
	}
	req := bootstrap.ProxylessRequest{Dataplane: dp, ControlPlane: cps[0], Replicas: cps[1:], Insecure: insecure, CertDir: certDir, RefreshInterval: o.refresh}
	if tokenFile != "" {
		if req.TokenFile, err = filepath.Abs(tokenFile); err != nil {
			return &exitError{code: 1, err: fmt.Errorf("--dataplane-token-file: %w", err)}
		}
	}
	if !insecure {
		if req.ControlPlaneCAFile, err = o.caFile(cmd, cpCA, certDir, copts); err != nil {
			return err
		}
	}
	data, err := bootstrap.Proxyless(req)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if out == "" {
		_, err = cmd.OutOrStdout().Write(data)
		return err
	}
	return os.WriteFile(out, data, 0o644)
}

// caFile is --cp-ca-file as an absolute path, or else the CA fetched from the control plane's
// API and written into the certificate directory.
func (o *proxylessOptions) caFile(cmd *cobra.Command, cpCA, certDir string, copts *clientOptions) (string, error) {
	if cpCA != "" {
		if _, err := os.Stat(cpCA); err != nil {
			return "", &exitError{code: 1, err: fmt.Errorf("--cp-ca-file: %w", err)}
		}
		abs, err := filepath.Abs(cpCA)
		if err != nil {
			return "", &exitError{code: 1, err: fmt.Errorf("--cp-ca-file: %w", err)}
		}
		return abs, nil
	}
	pem, err := controlPlaneCA(cmd, "", copts)
	if err != nil {
		return "", err
	}
	path := filepath.Join(certDir, controlPlaneCAFile)
	if err := os.WriteFile(path, pem, 0o644); err != nil {
		return "", &exitError{code: 1, err: fmt.Errorf("writing the control plane's CA: %w", err)}
	}
	return path, nil
}
