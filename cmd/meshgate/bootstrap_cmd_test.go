package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/meshgate/meshgate/certs/certstest"
)

// cpCAFile writes a control-plane CA made for this test; goldens hold @@CP_CA_BASE64@@ where
// the bootstrap inlines it, so no key material is committed.
func cpCAFile(t *testing.T) (path, b64 string) {
	t.Helper()
	pem := certstest.NewRoot(t, "meshgate golden cp-ca").CertPEM()
	path = filepath.Join(t.TempDir(), "cp-ca.pem")
	require.NoError(t, os.WriteFile(path, pem, 0o600))
	return path, base64.StdEncoding.EncodeToString(pem)
}

// One --cp-address prints exactly what it printed before the flag became repeatable: the
// goldens were written by the binary of the commit before that change.
func TestBootstrapSingleAddressUnchanged(t *testing.T) {
	gw := example + "/gateway.yaml"
	caFile, caB64 := cpCAFile(t)
	for golden, args := range map[string][]string{
		"default.yaml":     {"--cp-ca-file", caFile},
		"hostname.json":    {"--cp-ca-file", caFile, "--cp-address", "grpc://cp.example.internal:5678", "--format", "json"},
		"insecure-ip.yaml": {"--xds-insecure", "--cp-address", "10.0.0.5:5678"},
	} {
		t.Run(golden, func(t *testing.T) {
			out, stderr, code := runCLI(t, append([]string{"bootstrap", "--dataplane-file", gw}, args...)...)
			require.Equal(t, 0, code, stderr)
			want, err := os.ReadFile(filepath.Join("testdata/bootstrap", golden))
			require.NoError(t, err)
			assert.Equal(t, strings.ReplaceAll(string(want), "@@CP_CA_BASE64@@", caB64), out)
		})
	}
}

// Several --cp-address give the xDS cluster one endpoint each, and the certificate of any of
// them is accepted: IPs stay STATIC with IP SANs; a host name makes the cluster STRICT_DNS (every
// address it resolves to is an endpoint) with a DNS SAN, and several names each send their own
// SNI. What is printed is a valid Envoy bootstrap.
func TestBootstrapSeveralReplicas(t *testing.T) {
	type san struct{ typ, name string }
	cases := []struct {
		name     string
		addrs    []string
		typ      string
		sans     []san
		sni      string
		autoSNI  bool
		insecure bool
	}{
		{name: "ips", addrs: []string{"10.0.0.1:5678", "10.0.0.2:5678", "[fd00::3]:5678"}, typ: "STATIC",
			sans: []san{{"IP_ADDRESS", "10.0.0.1"}, {"IP_ADDRESS", "10.0.0.2"}, {"IP_ADDRESS", "fd00::3"}}},
		{name: "one name", addrs: []string{"cp.example.internal:5678"}, typ: "STRICT_DNS",
			sans: []san{{"DNS", "cp.example.internal"}}, sni: "cp.example.internal"},
		{name: "names", addrs: []string{"grpc://cp-1.example.internal:5678", "cp-2.example.internal:5678", "cp-3.example.internal:15678"},
			typ: "STRICT_DNS", autoSNI: true,
			sans: []san{{"DNS", "cp-1.example.internal"}, {"DNS", "cp-2.example.internal"}, {"DNS", "cp-3.example.internal"}}},
		{name: "name and ip", addrs: []string{"cp.example.internal:5678", "10.0.0.2:5678"}, typ: "STRICT_DNS",
			sans: []san{{"DNS", "cp.example.internal"}, {"IP_ADDRESS", "10.0.0.2"}}, sni: "cp.example.internal"},
		{name: "two ports one host", addrs: []string{"10.0.0.1:5678", "10.0.0.1:5679"}, typ: "STATIC",
			sans: []san{{"IP_ADDRESS", "10.0.0.1"}}},
		{name: "insecure", addrs: []string{"10.0.0.1:5678", "cp.example.internal:5678"}, typ: "STRICT_DNS", insecure: true},
	}
	caFile, _ := cpCAFile(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"bootstrap", "--dataplane-file", example + "/gateway.yaml", "--format", "json"}
			if c.insecure {
				args = append(args, "--xds-insecure")
			} else {
				args = append(args, "--cp-ca-file", caFile)
			}
			for _, a := range c.addrs {
				args = append(args, "--cp-address", a)
			}
			out, stderr, code := runCLI(t, args...)
			require.Equal(t, 0, code, stderr)
			var b bootstrapv3.Bootstrap
			require.NoError(t, protojson.Unmarshal([]byte(out), &b))
			require.NoError(t, b.ValidateAll())

			clusters := b.GetStaticResources().GetClusters()
			require.Len(t, clusters, 1)
			cl := clusters[0]
			assert.Equal(t, c.typ, cl.GetType().String())
			eps := cl.GetLoadAssignment().GetEndpoints()
			require.Len(t, eps, 1, "one locality: all replicas are equal")
			require.Len(t, eps[0].GetLbEndpoints(), len(c.addrs))
			for i, a := range c.addrs {
				sa := eps[0].GetLbEndpoints()[i].GetEndpoint().GetAddress().GetSocketAddress()
				assert.Contains(t, a, sa.GetAddress())
				assert.Contains(t, a, ":"+strconv.Itoa(int(sa.GetPortValue())))
			}
			if c.insecure {
				assert.Nil(t, cl.GetTransportSocket())
				return
			}
			var up tlsv3.UpstreamTlsContext
			require.NoError(t, cl.GetTransportSocket().GetTypedConfig().UnmarshalTo(&up))
			var got []san
			for _, m := range up.GetCommonTlsContext().GetValidationContext().GetMatchTypedSubjectAltNames() {
				got = append(got, san{m.GetSanType().String(), m.GetMatcher().GetExact()})
			}
			assert.Equal(t, c.sans, got)
			assert.Equal(t, c.sni, up.GetSni())
			assert.Equal(t, c.autoSNI, up.GetAutoHostSni())
		})
	}
}

func TestBootstrapSeveralReplicasRefused(t *testing.T) {
	for _, c := range []struct {
		addrs []string
		want  string
	}{
		{[]string{"10.0.0.1:5678", "10.0.0.1:5678"}, `"10.0.0.1:5678" given twice`},
		{[]string{"10.0.0.1:5678", "grpc://10.0.0.1:5678"}, "given twice"},
		{[]string{"10.0.0.1:5678", "cp-2"}, `control plane address "cp-2": want host:port`},
		{[]string{"10.0.0.1:5678", "https://cp-2:5678"}, "scheme must be grpc"},
	} {
		args := []string{"bootstrap", "--dataplane-file", example + "/gateway.yaml", "--xds-insecure"}
		for _, a := range c.addrs {
			args = append(args, "--cp-address", a)
		}
		_, stderr, code := runCLI(t, args...)
		assert.Equal(t, 1, code, c.addrs)
		assert.Contains(t, stderr, c.want, c.addrs)
	}
}
