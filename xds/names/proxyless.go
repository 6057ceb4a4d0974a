package names

import (
	"fmt"
	"net"
	"strconv"
)

// Certificate provider instances of a proxyless (gRPC) dataplane. gRPC takes no certificates
// over xDS (it NACKs SDS); its bootstrap defines these instances (`meshgate bootstrap
// --proxyless`: file_watcher plugins reading the files `meshgate agent` writes) and the
// listeners and clusters meshgate serves it name them.
const (
	// ProxylessIdentityProvider holds the dataplane's SVID and private key.
	ProxylessIdentityProvider = "meshgate-identity"
	// ProxylessTrustProvider holds the trust: the own mesh's bundle and, with
	// GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE=true, the SPIFFE bundle map of every mesh, so each peer
	// is checked against its own trust domain's CA.
	ProxylessTrustProvider = "meshgate-trust"
)

// ProxylessServerListenerTemplate is the bootstrap's server_listener_resource_name_template:
// gRPC's xDS server replaces %s with the address it listens on (`127.0.0.1:8080`,
// `[::1]:8080`) and asks for that listener, which is ProxylessInboundListener.
const ProxylessServerListenerTemplate = "inbound:%s"

// ProxylessInboundListener names the server listener of a proxyless inbound:
// `inbound:10.0.0.2:8080`, `inbound:[fd00::2]:8080` (the address as gRPC writes it, so an IPv4
// inbound has the sidecar's name).
func ProxylessInboundListener(address string, port uint32) string {
	return fmt.Sprintf(ProxylessServerListenerTemplate, net.JoinHostPort(address, strconv.Itoa(int(port))))
}

// ProxylessOutboundListener names the API listener of a proxyless outbound, which is also
// what the application dials as `xds:///<name>`: `backend.mesh:8080` for a service of the
// dataplane's own mesh, `backend.payments.mesh:8080` for a service of mesh payments.
func ProxylessOutboundListener(ownMesh, mesh, service string, port uint32) string {
	host := service + ".mesh"
	if mesh != "" && mesh != ownMesh {
		host = service + "." + mesh + ".mesh"
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}
