package controlplane

import (
	"net"
	"net/netip"

	"github.com/meshgate/meshgate/ca/servingtls"
)

// servingSANs are the names the generated serving certificate covers when --xds-tls-san is not
// given: the host name, localhost and the loopback addresses, plus this host's own unicast
// addresses, so a dataplane on another machine that dials the control plane by one of its IPs
// verifies it without extra flags. With --tls-cert-file the SANs are requirements the given
// certificate must meet, so only the configured ones are passed.
func servingSANs(cfg TLSConfig) []string {
	if len(cfg.SANs) > 0 || cfg.CertFile != "" {
		return cfg.SANs
	}
	sans := servingtls.DefaultSANs()
	seen := map[string]bool{}
	for _, s := range sans {
		seen[s] = true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return sans
	}
	for _, a := range addrs {
		p, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := p.Addr().Unmap()
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() || seen[ip.String()] {
			continue
		}
		seen[ip.String()] = true
		sans = append(sans, ip.String())
	}
	return sans
}
