package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/controlplane"
)

func newRunCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the control plane: xDS, HTTP API and diagnostics",
		Args:  cobra.NoArgs,
	}
	cfg := controlplane.DefaultConfig()
	opts := gatewayFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&cfg.XDSAddress, "xds-address", cfg.XDSAddress, "xDS (ADS gRPC) listen address")
	f.StringVar(&cfg.APIAddress, "api-address", cfg.APIAddress, "HTTP API listen address; beyond loopback it needs --admin-token")
	f.StringVar(&cfg.APITLSAddress, "api-tls-address", cfg.APITLSAddress, "HTTPS API listen address (the control plane's certificate); beyond loopback it needs --admin-token; empty: off")
	f.StringVar(&cfg.DiagAddress, "diag-address", cfg.DiagAddress, "diagnostics listen address: /metrics, /healthz, /ready; beyond loopback /metrics needs --admin-token or --public-metrics")
	f.BoolVar(&cfg.PublicMetrics, "public-metrics", false, "serve /metrics without the admin token on a --diag-address beyond loopback")
	f.BoolVar(&cfg.TLS.XDSInsecure, "xds-insecure", false, "serve xDS in plain text: dataplane tokens and private keys cross the network in clear (trusted networks only)")
	f.StringVar(&cfg.TLS.CertFile, "tls-cert-file", "", "PEM certificate (chain) for xDS and the HTTPS API, reloaded on change; default: issued from the control-plane CA in the store")
	f.StringVar(&cfg.TLS.KeyFile, "tls-key-file", "", "PEM private key of --tls-cert-file")
	f.StringSliceVar(&cfg.TLS.SANs, "xds-tls-san", nil, "DNS name or IP address dataplanes reach the control plane by, for the generated certificate (repeatable; default: the host name, localhost, 127.0.0.1, ::1 and this host's unicast addresses)")
	limitFlags(f, &cfg.Limits)
	f.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the embedded store")
	f.StringVar(&cfg.StoreURL, "store", "", "store URL: empty for the embedded store in --data-dir, or postgres://...")
	f.StringVar(&cfg.ResourcesDir, "resources", "", "directory of resource YAML to load at start and watch")
	f.StringVar(&cfg.Mode, "mode", controlplane.ModeStandalone, "standalone (one control plane), global (holds meshes, gateways, routes and policies for every zone) or zone (receives them from global, owns its dataplanes)")
	f.StringVar(&cfg.MultiZone.KDSAddress, "kds-address", controlplane.DefaultKDSAddress, "--mode global: where zones connect (gRPC over TLS with the control plane's certificate)")
	f.StringVar(&cfg.MultiZone.Zone, "zone", "", "--mode zone: this zone's name (a DNS label)")
	f.StringVar(&cfg.MultiZone.GlobalAddress, "global-address", "", "--mode zone: global's --kds-address as grpcs://HOST:PORT")
	f.StringVar(&cfg.MultiZone.ZoneTokenFile, "zone-token-file", "", "--mode zone: the zone token from `meshgate token zone --zone NAME` against global")
	f.StringVar(&cfg.MultiZone.GlobalCAFile, "global-ca-file", "", "--mode zone: PEM CA that signs global's certificate (`meshgate ca control-plane` against global)")
	f.StringVar(&cfg.Environment, "environment", controlplane.EnvironmentUniversal, "where resources come from: universal (files and the API) or kubernetes (Kuma's CRDs, pods and Services of the cluster)")
	f.StringVar(&cfg.Kube.Kubeconfig, "kubeconfig", "", "kubeconfig for --environment kubernetes (default: $KUBECONFIG, else the pod's ServiceAccount)")
	f.StringVar(&cfg.Kube.Namespace, "kube-namespace", "", "meshgate's namespace in Kubernetes mode: its state Secrets and Kuma's mesh Secrets (default: $POD_NAMESPACE, else "+controlplane.DefaultKubeNamespace+")")
	f.StringVar(&cfg.Kube.GatewayImage, "gateway-image", defaultImage(), "image of the gateway pods MeshGatewayInstances get (meshgate with Envoy; they run `meshgate dataplane`)")
	f.StringVar(&cfg.Kube.ControlPlaneAddress, "kube-cp-address", "", "HTTPS API URL pods fetch their bootstrap from (default: https://meshgate.<kube-namespace>.svc:5682)")
	f.StringVar(&cfg.Kube.XDSAddress, "kube-xds-address", "", "xDS host:port in the bootstraps pods get (default: meshgate.<kube-namespace>.svc:5678)")
	f.StringVar(&cfg.Kube.GatewayInstanceNamespace, "gateway-instance-namespace", "", "serve the MeshGatewayInstances of this namespace only (default: every namespace)")
	f.StringVar(&cfg.Kube.WebhookConfiguration, "webhook-configuration", "", "ValidatingWebhookConfiguration whose caBundle meshgate sets to its CA at start (meshgate install control-plane creates one named meshgate); empty: leave it alone")
	f.StringVar(&cfg.AdminToken, "admin-token", os.Getenv("MESHGATE_ADMIN_TOKEN"), "bearer token required by the HTTP API (env MESHGATE_ADMIN_TOKEN)")
	f.StringVar(&cfg.XDSAuth, "xds-auth", cfg.XDSAuth, "xDS authentication: token (every dataplane presents its dataplane token) or none (anyone may connect as any dataplane; local experiments only)")
	f.DurationVar(&cfg.Debounce, "debounce", cfg.Debounce, "coalesce changes arriving within this interval into one rebuild")
	f.DurationVar(&cfg.LeaseTTL, "lease-ttl", cfg.LeaseTTL, "how long a replica holds the lease for work done once among replicas (VIP allocation) without renewing it; renewed every third of it")
	f.Float64Var(&cfg.Rotation.Rate, "ca-reissue-rate", cfg.Rotation.Rate, "certificates re-issued per second after a mesh switches CA backend (0: no limit)")
	f.DurationVar(&cfg.Rotation.Jitter, "ca-reissue-jitter", cfg.Rotation.Jitter, "window over which re-issues after a CA switch are spread")
	f.DurationVar(&cfg.Rotation.Settle, "ca-settle", cfg.Rotation.Settle, "time a new trust bundle is given to reach every dataplane before leaves depend on it")
	f.StringVar(&cfg.DNS.Address, "dns-address", cfg.DNS.Address, "DNS listen address, UDP and TCP: .mesh names and VIPs")
	f.DurationVar(&cfg.DNS.TTL, "dns-ttl", cfg.DNS.TTL, "TTL of .mesh answers")
	f.BoolVar(&cfg.DNS.Forward, "dns-forward", cfg.DNS.Forward, "forward names outside .mesh to --dns-upstream (else REFUSED)")
	f.StringSliceVar(&cfg.DNS.Upstreams, "dns-upstream", nil, "upstream resolvers host:port (default: the host's /etc/resolv.conf)")
	f.StringSliceVar(&cfg.DNS.ForwardAllow, "dns-forward-allow", cfg.DNS.ForwardAllow, "clients (CIDRs or IPs; repeatable or comma-separated) whose names outside .mesh are forwarded, besides every known dataplane; others get REFUSED")
	f.StringVar(&cfg.DNS.DefaultMesh, "dns-default-mesh", cfg.DNS.DefaultMesh, "mesh whose <service>.mesh names clients that are no dataplane see")
	f.StringVar(&cfg.DNS.VIPCIDR, "vip-cidr", cfg.DNS.VIPCIDR, "IPv4 range VIPs are allocated from, unique across meshes")
	f.BoolVar(&cfg.DNS.IPv6, "vip-ipv6", cfg.DNS.IPv6, "also allocate IPv6 VIPs (AAAA answers)")
	logFormat := f.String("log-format", "text", "log format: text or json")
	logLevel := f.String("log-level", "info", "log level: debug, info, warn or error")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		logger, err := newLogger(cmd.ErrOrStderr(), *logFormat, *logLevel)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		cfg.Logger = logger
		cfg.Build = *opts
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		cp, err := controlplane.New(ctx, cfg)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		return cp.Run(ctx)
	}
	return cmd
}

func newLogger(w interface{ Write([]byte) (int, error) }, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	hopts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
