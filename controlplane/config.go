// Package controlplane wires meshgate together: the store, the reconcile loop that turns
// resources into per-dataplane snapshots, the ADS server, the HTTP API, the resource-file
// watcher and the diagnostics endpoints. It is the only package that knows all of them.
//
// Workload identities are wiring only here: ca/identity issues, stores, renews and rotates
// them; identities.go hands its identities to the build (as build.Identity) and tells it
// which dataplanes a rebuild kept, casources.go and meshkeys.go call it when a mesh's CA
// material changes or a mesh is deleted, and caapi.go and bundleapi.go serve its status and
// bundles.
package controlplane

import (
	"log/slog"
	"time"

	"github.com/meshgate/meshgate/ca/identity"
	"github.com/meshgate/meshgate/xds/build"
)

// Config is everything `meshgate run` can be told. Every address may use port 0.
type Config struct {
	XDSAddress  string
	APIAddress  string
	DiagAddress string
	// DataDir holds the embedded store; StoreURL, when set, selects another store
	// (postgres://...).
	DataDir  string
	StoreURL string
	// Environment is EnvironmentUniversal (also when empty) or EnvironmentKubernetes, where
	// the cluster is the source of resources (kube.go).
	Environment string
	Kube        KubeConfig
	// Mode is ModeStandalone (also when empty), ModeGlobal or ModeZone (zones.go).
	Mode      string
	MultiZone MultiZoneConfig
	// ResourcesDir, when set, is loaded at start and watched; its files own the resources they
	// define.
	ResourcesDir string
	// APITLSAddress serves the API over HTTPS with the control plane's certificate: the way
	// other machines reach it. Beyond loopback it needs AdminToken; empty disables it.
	APITLSAddress string
	// AdminToken, when set, is required on every API request; the HTTPS API beyond loopback and
	// /metrics beyond loopback need one, at least 32 characters long.
	AdminToken string
	// PublicMetrics serves /metrics without the admin token on a diagnostics address beyond
	// loopback (for scrapers that cannot send one).
	PublicMetrics bool
	// TLS is the certificate xDS and the HTTPS API present.
	TLS TLSConfig
	// Limits bound every server's connections, streams and timeouts.
	Limits Limits
	// XDSAuth is how xDS streams authenticate: XDSAuthToken (also when empty) requires each
	// dataplane's token, XDSAuthNone admits anyone.
	XDSAuth string
	// Debounce coalesces bursts of changes into one rebuild.
	Debounce time.Duration
	Build    build.Options
	// DNS serves `.mesh` names.
	DNS DNSConfig
	// LeaseTTL is how long a replica holds the lease for work done once among replicas without
	// renewing it (0: DefaultLeaseTTL); see lease.go.
	LeaseTTL time.Duration
	// Rotation paces re-issuing certificates after a mesh switches CA backend.
	Rotation identity.RotationOptions
	Logger   *slog.Logger
}

// DefaultConfig works on a laptop: xDS on every interface (dataplanes connect from elsewhere),
// the API and diagnostics on loopback only.
func DefaultConfig() Config {
	return Config{
		XDSAddress:    ":5678",
		APIAddress:    "127.0.0.1:5681",
		APITLSAddress: ":5682",
		DiagAddress:   "127.0.0.1:5680",
		DataDir:       "meshgate-data",
		Limits:        DefaultLimits(),
		XDSAuth:       XDSAuthToken,
		Debounce:      100 * time.Millisecond,
		LeaseTTL:      DefaultLeaseTTL,
		Build:         build.DefaultOptions(),
		Rotation:      identity.DefaultRotationOptions(),
		DNS: DNSConfig{
			Address: ":5653", TTL: 30 * time.Second, Forward: true, DefaultMesh: "default", VIPCIDR: "240.0.0.0/4",
			ForwardAllow: []string{"127.0.0.0/8", "::1/128"},
		},
		Logger: slog.Default(),
	}
}

// DNSConfig configures the embedded DNS server and the VIPs it hands out.
type DNSConfig struct {
	Address string
	TTL     time.Duration
	// Forward sends names outside `mesh.` to Upstreams (default: the host's resolv.conf);
	// without it they are refused.
	Forward   bool
	Upstreams []string
	// ForwardAllow are the clients (CIDRs or single addresses) whose names outside `mesh.` are
	// forwarded, besides every known dataplane's address; anyone else gets REFUSED for them,
	// so the server is no open resolver. nil: this host only (loopback).
	ForwardAllow []string
	// DefaultMesh is the mesh whose `<service>.mesh` names a client that is no dataplane sees.
	DefaultMesh string
	VIPCIDR     string
	IPv6        bool
}

// TLSConfig is the control plane's serving certificate, presented on xDS and the HTTPS API.
type TLSConfig struct {
	// XDSInsecure serves xDS in plain text: tokens and private keys then cross the network in
	// clear. Only for networks the operator trusts; a warning is logged at start.
	XDSInsecure bool
	// CertFile and KeyFile, when set, are the certificate (chain) and key to present, reloaded
	// when the files change; otherwise a certificate is issued from the control-plane CA kept
	// in the store, for SANs.
	CertFile, KeyFile string
	// SANs of the generated certificate: DNS names and IP addresses dataplanes use to reach the
	// control plane. Empty: the host name, localhost, 127.0.0.1 and ::1.
	SANs []string
}
