package v1alpha1

import (
	"net"
	"slices"
	"strconv"
	"strings"
)

// Validate checks an ExternalService with Kuma's rules (pkg/core/resources/apis/mesh/
// external_service_validator.go), plus one Kuma lacks: a client certificate needs its key and
// the other way round, or Envoy rejects the cluster.
func (e *ExternalService) Validate() ErrorList {
	var v validator
	v.meta(&e.Meta)
	v.externalServiceNetworking("networking", e.Spec.Networking)
	v.tags("tags", e.Spec.Tags, tagRules{requireService: true, check: externalServiceProtocol})
	if svc := e.Spec.Tags[ServiceTag]; svc != "" && e.Spec.Networking != nil {
		// The service's name and the address's host would both become DNS names of the service.
		if host, _, err := net.SplitHostPort(e.Spec.Networking.Address); err == nil && host == svc {
			v.add(joinKey("tags", ServiceTag), "cannot be the same as networking.address")
		}
	}
	return v.errs
}

func externalServiceProtocol(v *validator, path string, tags map[string]string) {
	if p, ok := tags[ProtocolTag]; ok && p != "" && !slices.Contains(inboundProtocols, p) {
		v.addf(joinKey(path, ProtocolTag), "tag %q has an invalid value %q. Allowed values: %s",
			ProtocolTag, p, strings.Join(inboundProtocols, ", "))
	}
}

func (v *validator) externalServiceNetworking(path string, n *ExternalServiceNetworking) {
	if n == nil {
		v.add(path, "should have networking")
		return
	}
	v.externalServiceAddress(joinField(path, "address"), n.Address)
	t := n.TLS
	if t == nil {
		return
	}
	tls := joinField(path, "tls")
	if t.ServerName != nil && *t.ServerName == "" {
		v.add(joinField(tls, "serverName"), "cannot be empty")
	}
	v.optionalDataSource(joinField(tls, "caCert"), t.CACert)
	v.optionalDataSource(joinField(tls, "clientCert"), t.ClientCert)
	v.optionalDataSource(joinField(tls, "clientKey"), t.ClientKey)
	switch {
	case t.ClientCert != nil && t.ClientKey == nil:
		v.add(joinField(tls, "clientKey"), "cannot be empty when clientCert is set")
	case t.ClientCert == nil && t.ClientKey != nil:
		v.add(joinField(tls, "clientCert"), "cannot be empty when clientKey is set")
	}
}

// externalServiceAddress checks a `host:port` address with Kuma's messages. Kuma reports every
// message that applies to an unparsable address; here the first one says it all.
func (v *validator) externalServiceAddress(path, address string) {
	if address == "" {
		v.add(path, "address can't be empty")
		return
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		v.add(path, "unable to parse address")
		return
	}
	// Kuma's rule (govalidator's IsIP or IsDNSName): laxer than a hostname.
	if net.ParseIP(host) == nil && !isDNSName(host) {
		v.add(path, "address has to be a valid IP address or a domain name")
	}
	p, err := strconv.ParseUint(port, 10, 32)
	if err != nil {
		v.add(path, "unable to parse port in address")
		return
	}
	v.port(path, uint32(p))
}

// optionalDataSource checks a DataSource that may be left out; Kuma's message for one given
// but empty is kept.
func (v *validator) optionalDataSource(path string, d *DataSource) {
	if d == nil {
		return
	}
	if *d == (DataSource{}) {
		v.add(path, "data source cannot be empty")
		return
	}
	v.dataSource(path, *d)
}
