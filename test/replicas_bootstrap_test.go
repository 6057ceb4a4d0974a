package test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
)

// haBootstrap is what the clients take from `meshgate bootstrap` given every replica's
// address: the xDS endpoints, and TLS as Envoy does it from the bootstrap (the inline CA is
// the only root; the certificate must match one of the SAN matchers).
type haBootstrap struct {
	endpoints []string
	tls       *tls.Config
}

// haBootstrapFor runs the binary's bootstrap command for one dataplane with one --cp-address
// per replica, the control-plane CA fetched from the first replica's API.
func haBootstrapFor(t *testing.T, bin string, rs []*haReplica, dataplane string) haBootstrap {
	t.Helper()
	file := t.TempDir() + "/dp.yaml"
	require.NoError(t, os.WriteFile(file, []byte("type: Dataplane\nmesh: default\nname: "+dataplane+
		"\nnetworking:\n  address: 127.0.0.1\n  gateway: {type: BUILTIN, tags: {kuma.io/service: edge-gateway}}\n"), 0o600))
	args := []string{"bootstrap", "--dataplane-file", file, "--format", "json", "--api-address", "http://" + rs[0].api}
	for _, r := range rs {
		args = append(args, "--cp-address", r.xds)
	}
	out, err := exec.Command(bin, args...).Output()
	require.NoError(t, err, stderrOf(err))
	var b bootstrapv3.Bootstrap
	require.NoError(t, protojson.Unmarshal(out, &b))
	require.NoError(t, b.ValidateAll())

	clusters := b.GetStaticResources().GetClusters()
	require.Len(t, clusters, 1)
	var hb haBootstrap
	for _, le := range clusters[0].GetLoadAssignment().GetEndpoints() {
		for _, ep := range le.GetLbEndpoints() {
			sa := ep.GetEndpoint().GetAddress().GetSocketAddress()
			hb.endpoints = append(hb.endpoints, net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue()))))
		}
	}
	require.NotNil(t, clusters[0].GetTransportSocket(), "the xDS cluster must use TLS")
	var up tlsv3.UpstreamTlsContext
	require.NoError(t, clusters[0].GetTransportSocket().GetTypedConfig().UnmarshalTo(&up))
	vc := up.GetCommonTlsContext().GetValidationContext()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(vc.GetTrustedCa().GetInlineBytes()), "the bootstrap's trusted CA is PEM")
	matchers := vc.GetMatchTypedSubjectAltNames()
	require.NotEmpty(t, matchers)
	hb.tls = &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2"},
		ServerName: up.GetSni(),
		// Verification is Envoy's, below: chain to the inline CA, then any SAN matcher.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			leaf := cs.PeerCertificates[0]
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter}); err != nil {
				return err
			}
			for _, m := range matchers {
				name := m.GetMatcher().GetExact()
				switch m.GetSanType() {
				case tlsv3.SubjectAltNameMatcher_DNS:
					if slices.Contains(leaf.DNSNames, name) {
						return nil
					}
				case tlsv3.SubjectAltNameMatcher_IP_ADDRESS:
					if slices.ContainsFunc(leaf.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.ParseIP(name)) }) {
						return nil
					}
				}
			}
			return fmt.Errorf("certificate SANs %v %v match none of the bootstrap's", leaf.DNSNames, leaf.IPAddresses)
		},
	}
	return hb
}
