package v1alpha1

import (
	"net"
	"strconv"
)

// ExternalService declares a service outside the mesh (api/mesh/v1alpha1/externalservice.proto):
// its tags make it a destination like any mesh service, reached at networking.address.
type ExternalService struct {
	Meta `json:"-"`
	Spec ExternalServiceSpec
}

type ExternalServiceSpec struct {
	Networking *ExternalServiceNetworking `json:"networking"`
	// Tags must hold kuma.io/service; kuma.io/protocol (tcp when absent) may say how to speak
	// to the service.
	Tags map[string]string `json:"tags"`
}

type ExternalServiceNetworking struct {
	// Address is `host:port`; the host is an IP address or a DNS name.
	Address string              `json:"address"`
	TLS     *ExternalServiceTLS `json:"tls,omitempty"`
	// DisableHostDNSEntry stops the DNS server from resolving the address's host to a VIP; the
	// service stays reachable as `<kuma.io/service>.mesh`.
	DisableHostDNSEntry bool `json:"disableHostDNSEntry,omitempty"`
}

// ExternalServiceTLS is how the mesh originates TLS to the service. Every setting is ignored
// unless Enabled, as in Kuma.
type ExternalServiceTLS struct {
	Enabled bool `json:"enabled,omitempty"`
	// CACert verifies the service's certificate; without it Kuma does not verify.
	CACert     *DataSource `json:"caCert,omitempty"`
	ClientCert *DataSource `json:"clientCert,omitempty"`
	ClientKey  *DataSource `json:"clientKey,omitempty"`
	// AllowRenegotiation lets the server renegotiate the session (some mTLS servers need it).
	AllowRenegotiation bool `json:"allowRenegotiation,omitempty"`
	// ServerName overrides the SNI (and the name verified), which defaults to the address's
	// host. Set but empty is invalid.
	ServerName *string `json:"serverName,omitempty"`
	// SkipHostnameVerification verifies the certificate chain but not the name in it.
	SkipHostnameVerification bool `json:"skipHostnameVerification,omitempty"`
}

// Service is the kuma.io/service tag.
func (e *ExternalService) Service() string { return e.Spec.Tags[ServiceTag] }

// Protocol is the kuma.io/protocol tag, or `tcp` when there is none (Kuma's default).
func (e *ExternalService) Protocol() string {
	if p := e.Spec.Tags[ProtocolTag]; p != "" {
		return p
	}
	return "tcp"
}

// Host is the host of networking.address (an IPv6 address without its brackets); empty when
// the address is not `host:port`.
func (e *ExternalService) Host() string {
	host, _, _ := e.splitAddress()
	return host
}

// Port is the port of networking.address; 0 when the address is not `host:port` with a
// numeric port.
func (e *ExternalService) Port() uint32 {
	_, port, _ := e.splitAddress()
	return port
}

// TLSEnabled reports whether the mesh originates TLS to the service.
func (e *ExternalService) TLSEnabled() bool {
	return e.Spec.Networking != nil && e.Spec.Networking.TLS != nil && e.Spec.Networking.TLS.Enabled
}

// ServerName is the SNI to send when TLS is enabled: tls.serverName when set, else the host.
func (e *ExternalService) ServerName() string {
	if n := e.Spec.Networking; n != nil && n.TLS != nil && n.TLS.ServerName != nil {
		return *n.TLS.ServerName
	}
	return e.Host()
}

func (e *ExternalService) splitAddress() (string, uint32, bool) {
	if e.Spec.Networking == nil {
		return "", 0, false
	}
	host, port, err := net.SplitHostPort(e.Spec.Networking.Address)
	if err != nil {
		return "", 0, false
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return host, 0, false
	}
	return host, uint32(p), true
}
