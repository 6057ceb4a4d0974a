package v1alpha1

import (
	"net"
	"regexp"
	"slices"
	"strings"
)

// Validate checks a Dataplane with Kuma's rules (pkg/core/resources/apis/mesh/dataplane_validator.go).
// Paths are where the fields really are: Kuma reports probes at `networking.probes`.
func (d *Dataplane) Validate() ErrorList {
	var v validator
	v.meta(&d.Meta)
	n := &d.Spec.Networking
	const np = "networking"

	if n.Admin != nil && n.Admin.Port != 0 {
		v.adminPort(n)
	}
	switch {
	case d.Spec.IsBuiltin():
		if len(n.Inbound) > 0 {
			v.add(joinField(np, "inbound"), "inbound cannot be defined for builtin gateways")
		}
		if len(n.Outbound) > 0 {
			v.add(joinField(np, "outbound"), "outbound cannot be defined for builtin gateways")
		}
		if d.Spec.Probes != nil {
			v.add("probes", "probes cannot be defined for builtin gateways")
		}
		v.gatewayTags(n.Gateway)
	case n.Gateway != nil:
		if len(n.Inbound) > 0 {
			v.add(joinField(np, "inbound"), "inbound cannot be defined for delegated gateways")
		}
		v.gatewayTags(n.Gateway)
	default:
		if len(n.Inbound) == 0 {
			v.add(np, "has to contain at least one inbound interface or gateway")
		}
	}
	v.networking(np, n)
	v.proxyType(d)
	return v.errs
}

func (v *validator) gatewayTags(g *DataplaneGateway) {
	v.tags("networking.gateway.tags", g.Tags, tagRules{
		requireService: true,
		check: func(v *validator, path string, tags map[string]string) {
			if p, ok := tags[ProtocolTag]; ok && p != "tcp" {
				v.addf(joinKey(path, ProtocolTag), `other values than tcp are not allowed, provided value "%s"`, p)
			}
		},
	})
}

func (v *validator) networking(path string, n *Networking) {
	v.address(joinField(path, "address"), n.Address)
	for i, in := range n.Inbound {
		ip := joinIndex(joinField(path, "inbound"), i)
		v.inbound(ip, in, n.Address)
		if _, ok := in.Tags[ServiceTag]; !ok {
			v.add(joinKey(joinField(ip, "tags"), ServiceTag), "tag has to exist")
		}
	}
	if tp := n.TransparentProxying; tp != nil {
		v.transparentProxying(joinField(path, "transparentProxying"), tp)
	}
	for i, out := range n.Outbound {
		op := joinIndex(joinField(path, "outbound"), i)
		v.port(joinField(op, "port"), out.Port)
		if out.Address != "" && net.ParseIP(out.Address) == nil {
			v.add(joinField(op, "address"), "address has to be valid IP address")
		}
		if len(out.Tags) == 0 {
			v.addf(joinField(op, "tags"), "mandatory tag %q is missing", ServiceTag)
		} else {
			v.tags(joinField(op, "tags"), out.Tags, tagRules{requireService: true})
		}
	}
}

// ipFamilyModes are the values of transparentProxying.ipFamilyMode Kuma knows.
var ipFamilyModes = []string{IPFamilyUnspecified, IPFamilyDualStack, IPFamilyIPv4}

func (v *validator) transparentProxying(path string, tp *TransparentProxying) {
	ports := []struct {
		field string
		port  uint32
	}{{"redirectPortInbound", tp.RedirectPortInbound}, {"redirectPortOutbound", tp.RedirectPortOutbound}, {"redirectPortInboundV6", tp.RedirectPortInboundV6}}
	for _, p := range ports {
		if p.port > 65535 {
			v.addf(joinField(path, p.field), "must be in [0, 65535], got %d", p.port)
		}
	}
	// Each redirect port gets its own wildcard listener: one port for both directions would be
	// two listeners on one socket, which Envoy refuses (Kuma accepts it, and the proxy breaks).
	if tp.RedirectPortInbound != 0 && tp.RedirectPortInbound == tp.RedirectPortOutbound {
		v.addf(joinField(path, "redirectPortInbound"), "must differ from redirectPortOutbound (%d)", tp.RedirectPortOutbound)
	}
	if m := tp.IPFamilyMode; m != "" && !slices.ContainsFunc(ipFamilyModes, func(k string) bool { return strings.EqualFold(k, m) }) {
		v.addf(joinField(path, "ipFamilyMode"), "%q is not one of %s", m, strings.Join(ipFamilyModes, ", "))
	}
}

func (v *validator) address(path, addr string) {
	if addr == "" {
		v.add(path, "address can't be empty")
		return
	}
	if addr == "0.0.0.0" || addr == "::" {
		v.add(path, "must not be 0.0.0.0 or ::")
	}
	if net.ParseIP(addr) == nil && !isDNSName(addr) {
		v.add(path, "address has to be valid IP address or domain name")
	}
}

// inboundProtocols are the values Kuma accepts for an inbound's kuma.io/protocol tag.
var inboundProtocols = []string{"grpc", "http", "http2", "kafka", "tcp"}

func (v *validator) inbound(path string, in Inbound, dpAddress string) {
	v.port(joinField(path, "port"), in.Port)
	if in.ServicePort != 0 {
		v.port(joinField(path, "servicePort"), in.ServicePort)
	}
	sameAsService := in.ServicePort == 0 || in.ServicePort == in.Port
	if in.ServiceAddress != "" {
		if net.ParseIP(in.ServiceAddress) == nil {
			v.add(joinField(path, "serviceAddress"), "serviceAddress has to be valid IP address")
		}
		if in.ServiceAddress == dpAddress && sameAsService {
			v.add(joinField(path, "serviceAddress"), "serviceAddress and servicePort has to differ from address and port")
		}
	}
	if in.Address != "" {
		if net.ParseIP(in.Address) == nil {
			v.add(joinField(path, "address"), "address has to be valid IP address")
		}
		if in.Address == in.ServiceAddress && sameAsService {
			v.add(joinField(path, "serviceAddress"), "serviceAddress and servicePort has to differ from address and port")
		}
	}
	v.tags(joinField(path, "tags"), in.Tags, tagRules{
		check: func(v *validator, path string, tags map[string]string) {
			if p, ok := tags[ProtocolTag]; ok && !slices.Contains(inboundProtocols, p) {
				v.addf(joinKey(path, ProtocolTag), "tag %q has an invalid value %q. Allowed values: %s",
					ProtocolTag, p, strings.Join(inboundProtocols, ", "))
			}
		},
	})
}

// adminPort rejects an Envoy admin port that an inbound or outbound listener on loopback uses.
func (v *validator) adminPort(n *Networking) {
	const loopback = "127.0.0.1"
	port := n.Admin.Port
	path := "networking.admin.port"
	for _, in := range n.Inbound {
		addr := firstNonEmpty(in.Address, n.Address)
		svcAddr := firstNonEmpty(in.ServiceAddress, loopback)
		svcPort := in.ServicePort
		if svcPort == 0 {
			svcPort = in.Port
		}
		if (addr == loopback && in.Port == port) || (svcAddr == loopback && svcPort == port) {
			v.add(path, "must differ from inbound")
			break
		}
	}
	for _, out := range n.Outbound {
		if firstNonEmpty(out.Address, loopback) == loopback && out.Port == port {
			v.add(path, "must differ from outbound")
			break
		}
	}
}

// dnsName is govalidator's IsDNSName pattern, which Kuma uses for Dataplane addresses.
var dnsName = regexp.MustCompile(`^([a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?$`)

func isDNSName(s string) bool {
	return s != "" && len(strings.ReplaceAll(s, ".", "")) <= 255 && net.ParseIP(s) == nil && dnsName.MatchString(s)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
