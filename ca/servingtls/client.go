package servingtls

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/meshgate/meshgate/certs"
)

// ClientConfig is a TLS client configuration for the control plane: it trusts only caPEM (what
// Source.CAPEM returns) and checks that the server's certificate covers serverName, a DNS name
// or an IP address ("[::1]" and "host:port" are accepted; the port is dropped).
func ClientConfig(caPEM []byte, serverName string) (*tls.Config, error) {
	host := serverName
	if h, _, err := net.SplitHostPort(serverName); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return nil, errors.New("control-plane TLS client: no server name to verify")
	}
	cas, err := certs.ParseCertificates(caPEM)
	if err != nil {
		return nil, fmt.Errorf("control-plane TLS client: CA: %w", err)
	}
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool, ServerName: host}, nil
}
