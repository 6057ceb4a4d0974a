package test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/meshgate/meshgate/ca/servingtls"
)

// tap is a TCP proxy on 127.0.0.1 that records every byte either way: what a packet capture of
// the connection would hold.
type tap struct {
	lis net.Listener
	mu  sync.Mutex
	buf bytes.Buffer
}

func newTap(t *testing.T, target string) *tap {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tp := &tap{lis: lis}
	t.Cleanup(func() { _ = lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			go tp.pipe(c, up)
			go tp.pipe(up, c)
		}
	}()
	return tp
}

func (tp *tap) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	b := make([]byte, 32<<10)
	for {
		n, err := src.Read(b)
		if n > 0 {
			tp.mu.Lock()
			tp.buf.Write(b[:n])
			tp.mu.Unlock()
			if _, werr := dst.Write(b[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (tp *tap) captured() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return bytes.Clone(tp.buf.Bytes())
}

// TestDefaultADSIsEncrypted: by default xDS is TLS. A capture of a gateway's whole ADS stream,
// identity included, holds neither its token nor its private key; a plain-text client gets
// nothing at all.
func TestDefaultADSIsEncrypted(t *testing.T) {
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", append([]byte(mtlsMesh+"\n---\n"), exampleYAML(t)...))
	require.Equal(t, http.StatusOK, code, string(body))
	token := tokenFor(t, cp, "default", "gateway-instance-1")

	tp := newTap(t, cp.addrs.XDS)
	// The tap listens on another port of the same address, which the certificate names.
	xdsCAs.Store(tp.lis.Addr().String(), cp.caPEM)
	t.Cleanup(func() { xdsCAs.Delete(tp.lis.Addr().String()) })
	gw := newSotW(t, dialADS(t, tp.lis.Addr().String()), gatewayNode, token)
	fetchAll(t, gw)
	names := []string{"identity_cert:secret:default", "mesh_ca:secret:default"}
	gw.subscribe(resourcev3.SecretType, names...)
	sds := gw.next(resourcev3.SecretType, wait)
	gw.ack(sds, names...)
	keyPEM := secretsOf(t, sds)["identity_cert:secret:default"].GetTlsCertificate().GetPrivateKey().GetInlineString()
	require.Contains(t, keyPEM, "PRIVATE KEY", "the gateway received its private key")
	block, _ := pem.Decode([]byte(keyPEM))
	require.NotNil(t, block)
	key := block.Bytes

	wire := tp.captured()
	require.Greater(t, len(wire), 2000, "the capture holds the stream")
	assert.False(t, bytes.Contains(wire, []byte(token)), "the token crossed the wire in clear")
	assert.False(t, bytes.Contains(wire, []byte(keyPEM)), "the private key crossed the wire in clear")
	assert.False(t, bytes.Contains(wire, key[len(key)/2:]), "the private key's DER crossed the wire in clear")
	assert.False(t, bytes.Contains(wire, []byte("PRIVATE KEY")), "PEM key material crossed the wire in clear")
	assert.False(t, bytes.Contains(wire, []byte("edge-gateway")), "configuration crossed the wire in clear")

	// Plain text to the default server: no response, the stream fails.
	conn, err := grpc.NewClient(cp.addrs.XDS, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(withToken(context.Background(), token), 5*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err == nil {
		_ = stream.Send(&discoveryv3.DiscoveryRequest{Node: gw.node, TypeUrl: resourcev3.ListenerType})
		_, err = stream.Recv()
	}
	require.Error(t, err, "a plain-text ADS client must get nothing")
}

// TestBootstrapVerifiesControlPlane: the bootstrap `meshgate bootstrap` prints carries all Envoy
// needs to verify the control plane. Go's TLS client, given only what the bootstrap holds (its
// CA, SAN matcher and SNI), completes the handshake and gets configuration; with another control
// plane's CA, or a SAN the certificate lacks, it refuses.
func TestBootstrapVerifiesControlPlane(t *testing.T) {
	bin := buildBinary(t)
	cp := startCP(t, t.TempDir())
	code, body := cp.call(t, http.MethodPost, "/apply", "application/yaml", exampleYAML(t))
	require.Equal(t, http.StatusOK, code, string(body))
	token := tokenFor(t, cp, "default", "gateway-instance-1")
	tokenFile := t.TempDir() + "/gw.token"
	require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))

	out, err := exec.Command(bin, "bootstrap", "--dataplane-file", "../examples/gateway/gateway.yaml", "--format", "json",
		"--cp-address", cp.addrs.XDS, "--api-address", "http://"+cp.addrs.API, "--dataplane-token-file", tokenFile).Output()
	require.NoError(t, err, stderrOf(err))
	var b bootstrapv3.Bootstrap
	require.NoError(t, protojson.Unmarshal(out, &b))
	require.NoError(t, b.ValidateAll())

	cluster := b.GetStaticResources().GetClusters()[0]
	sa := cluster.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	addr := net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
	var up tlsv3.UpstreamTlsContext
	require.NotNil(t, cluster.GetTransportSocket(), "the xDS cluster must use TLS")
	require.NoError(t, cluster.GetTransportSocket().GetTypedConfig().UnmarshalTo(&up))
	cfg := tlsFromBootstrap(t, &up)

	// The bootstrap's own CA and SAN check admit the control plane, and the token gets config.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	require.NoError(t, err)
	defer conn.Close()
	gw := newSotW(t, conn, gatewayNode, token)
	gw.subscribe(resourcev3.ListenerType)
	assert.Equal(t, []string{"edge-gateway:HTTP:8080"}, resourceNames(t, gw.next(resourcev3.ListenerType, wait)))

	// Another control plane's CA does not verify this one.
	otherCA := startCP(t, t.TempDir()).caPEM
	vc := up.GetCommonTlsContext().GetValidationContext()
	vc.TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: otherCA}}
	_, err = tls.Dial("tcp", addr, tlsFromBootstrap(t, &up))
	require.Error(t, err)
	require.Contains(t, err.Error(), "certificate signed by unknown authority")

	// A SAN the certificate does not carry is refused.
	cfgWrongSAN, err := servingtls.ClientConfig(cp.caPEM, "cp.elsewhere.example")
	require.NoError(t, err)
	_, err = tls.Dial("tcp", addr, cfgWrongSAN)
	require.Error(t, err)
	require.Contains(t, err.Error(), "not cp.elsewhere.example")
}

// tlsFromBootstrap is Go's equivalent of Envoy's upstream TLS from the bootstrap: the inline
// trusted CA as the only root, and the exact SAN matcher as the name to verify.
func tlsFromBootstrap(t *testing.T, up *tlsv3.UpstreamTlsContext) *tls.Config {
	t.Helper()
	vc := up.GetCommonTlsContext().GetValidationContext()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(vc.GetTrustedCa().GetInlineBytes()), "the bootstrap's trusted CA is PEM")
	sans := vc.GetMatchTypedSubjectAltNames()
	require.Len(t, sans, 1)
	return &tls.Config{
		RootCAs: pool, ServerName: sans[0].GetMatcher().GetExact(), MinVersion: tls.VersionTLS12,
		NextProtos: up.GetCommonTlsContext().GetAlpnProtocols(),
	}
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}
