package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/agent"
	"github.com/meshgate/meshgate/api/client"
)

const defaultAgentCPAddress = "https://127.0.0.1:5682"

func newAgentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent --token-file T [--cp-address URL] [--ca-file F] [--socket PATH] [--cert-dir DIR]",
		Short: "Serve a dataplane's identity to its workload: SPIFFE Workload API on a unix socket, and certificate files",
		Long: `Runs next to a workload with its dataplane's token. Fetches the dataplane's X509-SVID from the
control plane (GET /dataplane/identity), renews it before expiry, and serves it:
  - over the SPIFFE Workload API on --socket (go-spiffe's workloadapi client: unix://PATH);
    every process that can open the socket (mode 0600: this user and root) gets this
    dataplane's identity, so run one agent per workload identity, as the workload's user;
  - as files in --cert-dir: svid.pem, svid_key.pem (0600), bundle.pem (own mesh's roots) and
    spiffe_bundle_map.json (every mesh's roots, gRPC's SPIFFE bundle map), replaced atomically.`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	address := f.String("cp-address", defaultAgentCPAddress, "control plane HTTPS API URL (plain http:// only to a loopback API)")
	caFile := f.String("ca-file", "", "PEM CA that the control plane's serving certificate is verified against, e.g. from meshgate ca control-plane (default: the system's roots)")
	tokenFile := f.String("token-file", "", "file holding the dataplane's token (meshgate token dataplane); read again before each fetch")
	socket := f.String("socket", agent.DefaultSocket, "unix socket the SPIFFE Workload API is served on (created mode 0600)")
	certDir := f.String("cert-dir", "", "directory the SVID, its key and the bundles are written to (default: no files)")
	refresh := f.Duration("refresh", time.Minute, "longest time between two fetches (other meshes' bundles reach the workload within it)")
	logFormat := f.String("log-format", "text", "log format: text or json")
	logLevel := f.String("log-level", "info", "log level: debug, info, warn or error")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		logger, err := newLogger(cmd.ErrOrStderr(), *logFormat, *logLevel)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		if *tokenFile == "" {
			return &exitError{code: 1, err: errors.New("--token-file is required: the dataplane's token, from meshgate token dataplane --mesh M --name N")}
		}
		var caPEM []byte
		if *caFile != "" {
			if caPEM, err = os.ReadFile(*caFile); err != nil {
				return &exitError{code: 1, err: fmt.Errorf("--ca-file: %w", err)}
			}
		}
		newSource := func() (agent.Source, error) {
			token, err := os.ReadFile(*tokenFile)
			if err != nil {
				return nil, fmt.Errorf("--token-file: %w", err)
			}
			c, err := client.New(*address, strings.TrimSpace(string(token)))
			if err != nil {
				return nil, fmt.Errorf("--cp-address: %w", err)
			}
			if caPEM != nil {
				if err := c.TrustCA(caPEM); err != nil {
					return nil, fmt.Errorf("--ca-file %s: %w", *caFile, err)
				}
			}
			return c, nil
		}
		// The flags are checked before anything listens: a typo is an exit, not a retry loop.
		if _, err := newSource(); err != nil {
			return &exitError{code: 1, err: err}
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return agent.Run(ctx, agent.Config{NewSource: newSource, Socket: *socket, CertDir: *certDir, Refresh: *refresh, Log: logger})
	}
	return cmd
}
