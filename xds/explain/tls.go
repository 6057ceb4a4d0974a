package explain

import (
	"fmt"
	"sort"
	"strings"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	"github.com/meshgate/meshgate/xds/names"
)

// spiffeValidator is the extension name of Envoy's SPIFFE certificate validator.
const spiffeValidator = "envoy.tls.cert_validator.spiffe"

const spiffePrefix = "spiffe://"

// validation is a certificate validation context as Envoy applies it: the inline or default
// context merged with the one an SDS secret delivers.
type validation struct {
	// secret names the SDS secret, if any; missing is set when it is not among the resources.
	secret  string
	missing bool
	// spiffe is set for the SPIFFE validator; domains are its trust domains.
	spiffe  bool
	domains []string
	sans    []SANMatch
	// trustedCA: the context holds CA certificates (inline or from the secret).
	trustedCA bool
	// matchers are the SAN matchers to evaluate; any type-less (deprecated) one matches any SAN.
	matchers []sanMatcher
	// provider is the certificate provider instance holding the roots (a proxyless gRPC
	// dataplane; see checkProviderPeer).
	provider string
}

type sanMatcher struct {
	typ string // "URI", "DNS", ... or "" for match_subject_alt_names (any type)
	m   *matcherv3.StringMatcher
}

// checkDownstreamTLS is the TLS handshake of a chain that requires a client certificate:
// whether the request's Source certificate passes the chain's validation. It reports false
// when Envoy ends the handshake, with the connection closed in the Result.
func (e *explainer) checkDownstreamTLS(fc *listenerv3.FilterChain, c conn) (bool, error) {
	ts := fc.GetTransportSocket()
	if !strings.HasSuffix(ts.GetTypedConfig().GetTypeUrl(), ".DownstreamTlsContext") {
		return true, nil
	}
	ctx := &tlsv3.DownstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return false, fmt.Errorf("filter chain %q: transport socket: %w", fc.GetName(), err)
	}
	if !ctx.GetRequireClientCertificate().GetValue() {
		return true, nil
	}
	common := ctx.GetCommonTlsContext()
	chk := &TLSCheck{RequireClientCert: true}
	for _, s := range common.GetTlsCertificateSdsSecretConfigs() {
		chk.Identity = append(chk.Identity, s.GetName())
	}
	if len(common.GetTlsCertificates()) > 0 {
		chk.Identity = append(chk.Identity, "inline")
	}
	if p := common.GetTlsCertificateProviderInstance(); p != nil {
		chk.Identity = append(chk.Identity, providerPrefix+p.GetInstanceName())
	}
	v, err := e.validation(common)
	if err != nil {
		return false, fmt.Errorf("filter chain %q: %w", fc.GetName(), err)
	}
	chk.Validation = v.secret
	if chk.Validation == "" && (v.trustedCA || v.spiffe) {
		chk.Validation = "inline"
	}
	if v.spiffe {
		chk.Validator = "spiffe"
		chk.TrustDomains = v.domains
	}
	chk.SANs = v.sans
	if v.provider != "" {
		chk.Validation = providerPrefix + v.provider
	}
	e.out.TLS = chk

	refuse := func(why string) (bool, error) {
		chk.Reason = why
		e.out.Action = &Action{Close: true}
		e.out.Reason = why + ": the TLS handshake fails and Envoy closes the connection"
		return false, nil
	}
	if !c.tls {
		return refuse("the connection is plaintext and the chain requires TLS with a client certificate")
	}
	peer := e.req.Source
	if peer == nil {
		return refuse("client certificate required")
	}
	first := peer.URIs[0]
	chk.Peer = first
	issuer := peer.TrustDomain
	if issuer == "" {
		issuer = firstTrustDomain(peer.URIs)
	}
	chk.PeerTrustDomain = issuer

	switch {
	case v.provider != "":
		if why := e.checkProviderPeer(chk, peer, issuer); why != "" {
			return refuse(why)
		}
	case v.spiffe:
		// The SPIFFE validator takes the trust domain from the first URI SAN only and verifies
		// the chain against that trust domain's bundle alone.
		td, ok := trustDomainOf(first)
		switch {
		case !ok:
			return refuse(fmt.Sprintf("the first URI SAN %s is not a SPIFFE ID, which the SPIFFE validator requires", first))
		case v.missing:
			chk.PeerTrustDomain = td
			chk.Unchecked = true
			e.out.note("secret %q is not among the resources (the control plane delivers it): whether trust domain %s is trusted is not known", v.secret, td)
		case !contains(v.domains, td):
			chk.PeerTrustDomain = td
			return refuse(fmt.Sprintf("trust domain %s is not among the validator's trust domains (%s)", td, strings.Join(v.domains, ", ")))
		case issuer != td:
			return refuse(fmt.Sprintf("the certificate claims trust domain %s but was issued by %s's CA, so it does not verify against %s's bundle", td, issuer, td))
		}
		chk.PeerTrustDomain = td
	case v.secret != "" && strings.HasPrefix(v.secret, names.MeshCASecret("")):
		// A mesh's CA bundle: only certificates its CA issued verify.
		mesh := strings.TrimPrefix(v.secret, names.MeshCASecret(""))
		if issuer != mesh {
			who := "an unknown CA"
			if issuer != "" {
				who = issuer + "'s CA"
			}
			return refuse(fmt.Sprintf("the certificate was issued by %s, which %s does not hold", who, v.secret))
		}
	case v.trustedCA || v.secret != "":
		e.out.note("explain assumes the client certificate chains to the CA of %s", chk.Validation)
	default:
		e.out.note("the chain requires a client certificate but validates it against nothing: any certificate is accepted")
	}
	if len(v.matchers) > 0 {
		ok, err := e.anySAN(v.matchers, peer.URIs)
		if err != nil {
			return false, err
		}
		if !ok {
			return refuse(fmt.Sprintf("no URI SAN of the certificate matches %s", sansText(v.sans)))
		}
	}
	chk.Accepted = true
	return true, nil
}

// validation reads the context's validation: inline, from an SDS secret, or combined (Envoy
// merges the default context into the secret's, repeated fields appended).
func (e *explainer) validation(common *tlsv3.CommonTlsContext) (validation, error) {
	var v validation
	var contexts []*tlsv3.CertificateValidationContext
	secret := func(name string) {
		v.secret = name
		s := e.secret(name)
		if s == nil {
			v.missing = true
			return
		}
		if vc := s.GetValidationContext(); vc != nil {
			contexts = append(contexts, vc)
		}
	}
	switch vt := common.GetValidationContextType().(type) {
	case *tlsv3.CommonTlsContext_ValidationContext:
		contexts = append(contexts, vt.ValidationContext)
	case *tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig:
		secret(vt.ValidationContextSdsSecretConfig.GetName())
	case *tlsv3.CommonTlsContext_CombinedValidationContext:
		contexts = append(contexts, vt.CombinedValidationContext.GetDefaultValidationContext())
		secret(vt.CombinedValidationContext.GetValidationContextSdsSecretConfig().GetName())
	}
	if v.missing && v.secret == names.CrossMeshValidationSecret {
		// Named, not delivered: the name is all that tells it is the SPIFFE validator.
		v.spiffe = true
	}
	for _, vc := range contexts {
		if vc == nil {
			continue
		}
		if vc.GetTrustedCa() != nil {
			v.trustedCA = true
		}
		if p := vc.GetCaCertificateProviderInstance(); p != nil {
			v.provider = p.GetInstanceName()
		}
		if cv := vc.GetCustomValidatorConfig(); cv != nil {
			if cv.GetName() != spiffeValidator {
				return v, fmt.Errorf("certificate validator %q is not interpreted by explain", cv.GetName())
			}
			cfg := &tlsv3.SPIFFECertValidatorConfig{}
			if err := cv.GetTypedConfig().UnmarshalTo(cfg); err != nil {
				return v, fmt.Errorf("SPIFFE validator: %w", err)
			}
			v.spiffe = true
			for _, td := range cfg.GetTrustDomains() {
				v.domains = append(v.domains, td.GetName())
			}
			sort.Strings(v.domains)
		}
		for _, m := range vc.GetMatchTypedSubjectAltNames() {
			typ := strings.TrimPrefix(m.GetSanType().String(), "SAN_TYPE_")
			v.matchers = append(v.matchers, sanMatcher{typ: typ, m: m.GetMatcher()})
			v.sans = append(v.sans, SANMatch{Type: typ, StringMatch: describeString(m.GetMatcher())})
		}
		for _, m := range vc.GetMatchSubjectAltNames() { //nolint:staticcheck // deprecated, still honoured by Envoy
			v.matchers = append(v.matchers, sanMatcher{m: m})
			v.sans = append(v.sans, SANMatch{StringMatch: describeString(m)})
		}
	}
	return v, nil
}

// anySAN: Envoy accepts a certificate when any SAN of a matcher's type matches any matcher.
// The certificate is known only by its URI SANs.
func (e *explainer) anySAN(ms []sanMatcher, uris []string) (bool, error) {
	for _, m := range ms {
		if m.typ != "" && m.typ != "URI" {
			continue
		}
		for _, u := range uris {
			ok, err := e.matchString(m.m, u)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
	}
	return false, nil
}

func (e *explainer) secret(name string) *tlsv3.Secret {
	for _, s := range e.res.Secrets {
		if s != nil && s.GetName() == name {
			return s
		}
	}
	return nil
}

// trustDomainOf is the trust domain of a SPIFFE ID, as Envoy's SPIFFE validator extracts it.
func trustDomainOf(uri string) (string, bool) {
	rest, ok := strings.CutPrefix(uri, spiffePrefix)
	if !ok {
		return "", false
	}
	td, _, _ := strings.Cut(rest, "/")
	return td, td != ""
}

func firstTrustDomain(uris []string) string {
	for _, u := range uris {
		if td, ok := trustDomainOf(u); ok {
			return td
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
