package bootstrap

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/names"
)

// The files a proxyless dataplane's certificate providers watch, in its certificate directory.
// `meshgate agent` writes exactly these, and rewrites them before the SVID expires; gRPC's
// file_watcher plugin re-reads them every refresh interval.
const (
	SVIDFile            = "svid.pem"
	SVIDKeyFile         = "svid_key.pem"
	BundleFile          = "bundle.pem"
	SPIFFEBundleMapFile = "spiffe_bundle_map.json"
)

// Environment variables a proxyless application runs with, besides GRPC_XDS_BOOTSTRAP (or
// GRPC_XDS_BOOTSTRAP_CONFIG) holding the bootstrap: gRPC-Go (v1.85) reads the bootstrap's
// call credentials, which carry the dataplane token, and SPIFFE bundle maps only when told to.
const (
	EnvCallCreds = "GRPC_EXPERIMENTAL_XDS_BOOTSTRAP_CALL_CREDS"
	EnvSPIFFE    = "GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE"
)

// DefaultRefreshInterval is how often gRPC re-reads the certificate files: well within the
// time between a renewal (80 % of a leaf's life) and its expiry for any lifetime from minutes up.
const DefaultRefreshInterval = 10 * time.Second

// ProxylessRequest describes a proxyless (gRPC) dataplane and where its control plane is.
type ProxylessRequest struct {
	Dataplane *api.Dataplane
	// ControlPlane and Replicas are `host:port` or `grpc://host:port`; gRPC uses the first and
	// falls back to the others in order.
	ControlPlane string
	Replicas     []string
	// TokenFile is the dataplane token file (absolute path). gRPC's `jwt_token_file` call
	// credentials send it on the ADS stream as `authorization: Bearer <token>`, the metadata
	// meshgate's xDS server authenticates, and re-read it when it expires. gRPC sends call
	// credentials only over TLS and only with GRPC_EXPERIMENTAL_XDS_BOOTSTRAP_CALL_CREDS=true.
	TokenFile string
	// ControlPlaneCAFile is the PEM file gRPC's `tls` channel credentials verify the control
	// plane against (its certificate must name the host of ControlPlane). Required unless
	// Insecure.
	ControlPlaneCAFile string
	// Insecure connects in plain text, for a control plane run with --xds-insecure; no token
	// can then be sent, so that control plane must also run with --xds-auth none.
	Insecure bool
	// CertDir (absolute) holds SVIDFile, SVIDKeyFile, BundleFile and SPIFFEBundleMapFile.
	CertDir string
	// RefreshInterval is the file watchers'; 0 is DefaultRefreshInterval.
	RefreshInterval time.Duration
}

// Proxyless returns the gRPC xDS bootstrap (JSON) of a proxyless dataplane: the control plane
// with TLS channel credentials and the token as call credentials, node `<mesh>.<name>`, the
// certificate provider instances its listeners and clusters name (names.ProxylessIdentity-
// Provider, names.ProxylessTrustProvider) reading the files in CertDir, and the server
// listener template its xDS servers ask for their listeners with.
func Proxyless(req ProxylessRequest) ([]byte, error) {
	dp := req.Dataplane
	if dp == nil {
		return nil, errors.New("proxyless bootstrap: no dataplane")
	}
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("proxyless bootstrap for %s: %w", dp.Meta.DisplayName(), err)
	}
	if !dp.IsProxyless() {
		return fail(fmt.Errorf("the Dataplane is not labelled %s: %s, so meshgate serves it Envoy's configuration", api.ProxyTypeLabel, api.ProxyTypeProxyless))
	}
	cps, err := controlPlanes(append([]string{req.ControlPlane}, req.Replicas...))
	if err != nil {
		return fail(err)
	}
	switch {
	case !filepath.IsAbs(req.CertDir):
		return fail(fmt.Errorf("certificate directory %q must be an absolute path: gRPC resolves it from the application's working directory", req.CertDir))
	case req.Insecure && req.TokenFile != "":
		return fail(errors.New("gRPC sends the token only over TLS; a plain-text control plane must run with --xds-auth none"))
	case !req.Insecure && req.ControlPlaneCAFile == "":
		return fail(errors.New("no control-plane CA file to verify the xDS server"))
	case req.TokenFile != "" && !filepath.IsAbs(req.TokenFile):
		return fail(fmt.Errorf("token file %q must be an absolute path", req.TokenFile))
	}
	channel := credsConfig{Type: "insecure"}
	if !req.Insecure {
		channel = credsConfig{Type: "tls", Config: map[string]string{"ca_certificate_file": req.ControlPlaneCAFile}}
	}
	var call []credsConfig
	if req.TokenFile != "" {
		call = []credsConfig{{Type: "jwt_token_file", Config: map[string]string{"jwt_token_file": req.TokenFile}}}
	}
	var servers []xdsServer
	for _, c := range cps {
		servers = append(servers, xdsServer{
			URI:          net.JoinHostPort(c.host, strconv.Itoa(int(c.port))),
			ChannelCreds: []credsConfig{channel},
			CallCreds:    call,
		})
	}
	spec, err := api.Encode(dp)
	if err != nil {
		return fail(err)
	}
	refresh := req.RefreshInterval
	if refresh == 0 {
		refresh = DefaultRefreshInterval
	}
	interval := strconv.FormatFloat(refresh.Seconds(), 'f', -1, 64) + "s"
	file := func(name string) string { return filepath.Join(req.CertDir, name) }
	b := grpcBootstrap{
		XDSServers: servers,
		Node: node{
			ID:      names.Node(dp.Mesh, dp.Name),
			Cluster: serviceOf(dp),
			// As in Envoy's bootstrap: the control plane reads the Dataplane from here.
			Metadata: map[string]string{"dataplane.resource": string(spec), "meshgate.mesh": dp.Mesh, "meshgate.name": dp.Name},
		},
		CertificateProviders: map[string]certificateProvider{
			names.ProxylessIdentityProvider: {Plugin: "file_watcher", Config: map[string]string{
				"certificate_file": file(SVIDFile), "private_key_file": file(SVIDKeyFile), "refresh_interval": interval,
			}},
			names.ProxylessTrustProvider: {Plugin: "file_watcher", Config: map[string]string{
				// The own mesh's roots; with GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE=true the bundle map
				// replaces them and each peer is verified against its own trust domain's roots.
				"ca_certificate_file": file(BundleFile), "spiffe_trust_bundle_map_file": file(SPIFFEBundleMapFile),
				"refresh_interval": interval,
			}},
		},
		ServerListenerTemplate: names.ProxylessServerListenerTemplate,
	}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fail(err)
	}
	return append(out, '\n'), nil
}

// grpcBootstrap is gRPC's bootstrap file format (gRFC A27, A29, A36, A97).
type grpcBootstrap struct {
	XDSServers             []xdsServer                    `json:"xds_servers"`
	Node                   node                           `json:"node"`
	CertificateProviders   map[string]certificateProvider `json:"certificate_providers"`
	ServerListenerTemplate string                         `json:"server_listener_resource_name_template"`
}

type xdsServer struct {
	URI          string        `json:"server_uri"`
	ChannelCreds []credsConfig `json:"channel_creds"`
	CallCreds    []credsConfig `json:"call_creds,omitempty"`
}

type credsConfig struct {
	Type   string            `json:"type"`
	Config map[string]string `json:"config,omitempty"`
}

type node struct {
	ID       string            `json:"id"`
	Cluster  string            `json:"cluster,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

type certificateProvider struct {
	Plugin string            `json:"plugin_name"`
	Config map[string]string `json:"config"`
}
