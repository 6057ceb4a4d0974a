package build

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/names"
)

// certificates loads a TLS-terminating listener's certificates and returns their secret names.
// A certificate that cannot be used costs only this listener's filter chain, with a diagnostic.
func (b *builder) certificates(h *host) ([]string, bool) {
	if h.spec.TLS == nil {
		b.diag(&b.gateway.Meta, fmt.Sprintf("conf.listeners[%d].tls", h.index), "cannot be empty")
		return nil, false
	}
	var out []string
	for i, ds := range h.spec.TLS.Certificates {
		field := fmt.Sprintf("conf.listeners[%d].tls.certificates[%d]", h.index, i)
		s, err := b.loadCertificate(ds, h.hostname)
		if err != nil {
			b.diag(&b.gateway.Meta, field, "%v; filter chain for %q not configured", err, h.hostname)
			return nil, false
		}
		for _, prev := range out {
			if prev == s.Name {
				b.diag(&b.gateway.Meta, field, "duplicate TLS certificate %q", s.Name)
				return nil, false
			}
		}
		b.secrets[s.Name] = s
		out = append(out, s.Name)
	}
	return out, true
}

func (b *builder) loadCertificate(ds api.DataSource, hostname string) (ir.Secret, error) {
	var source, id string
	switch {
	case ds.Secret != "":
		source, id = "secret", ds.Secret
	case ds.File != "":
		source, id = "file", ds.File
	case ds.Inline != "":
		source, id = "inline", hostname
	default:
		source, id = "inlineString", hostname
	}
	data, err := b.dataSource(ds)
	if err != nil {
		return ir.Secret{}, err
	}
	chain, key, keyType, err := splitPEM(data)
	if err != nil {
		return ir.Secret{}, err
	}
	return ir.Secret{Name: names.ServerCertSecret(keyType, source, id), CertificateChain: chain, PrivateKey: key}, nil
}

// dataSource reads a DataSource: a mesh Secret, a file, base64 inline data or an inline string.
func (b *builder) dataSource(ds api.DataSource) ([]byte, error) {
	switch {
	case ds.Secret != "":
		sec := b.mesh.Secrets[ds.Secret]
		if sec == nil {
			return nil, fmt.Errorf("secret %q not found in mesh %q", ds.Secret, b.mesh.Name)
		}
		data, err := base64.StdEncoding.DecodeString(sec.Spec.Data)
		if err != nil {
			return nil, fmt.Errorf("secret %q: data is not base64: %w", ds.Secret, err)
		}
		return data, nil
	case ds.File != "":
		data, err := b.opts.ReadFile(ds.File)
		if err != nil {
			return nil, fmt.Errorf("reading file: %w", err)
		}
		return data, nil
	case ds.Inline != "":
		data, err := base64.StdEncoding.DecodeString(ds.Inline)
		if err != nil {
			return nil, fmt.Errorf("inline: not base64: %w", err)
		}
		return data, nil
	default:
		return []byte(ds.InlineString), nil
	}
}

// splitPEM separates a PEM bundle into its certificate chain and its one private key, and checks
// that the key belongs to the first certificate, so that Envoy is never sent a pair it rejects.
func splitPEM(data []byte) (chain, key, keyType string, err error) {
	var certs, keys []string
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		encoded := string(pem.EncodeToMemory(block))
		switch {
		case strings.HasSuffix(block.Type, "PRIVATE KEY"):
			keys = append(keys, encoded)
		case strings.HasSuffix(block.Type, "CERTIFICATE"):
			certs = append(certs, encoded)
		default:
			return "", "", "", fmt.Errorf("unsupported PEM block %q", block.Type)
		}
	}
	switch {
	case len(keys) > 1:
		return "", "", "", fmt.Errorf("secret contains multiple private keys")
	case len(keys) == 0:
		return "", "", "", fmt.Errorf("missing private key")
	case len(certs) == 0:
		return "", "", "", fmt.Errorf("missing server certificate")
	}
	chain, key = strings.Join(certs, ""), keys[0]
	pair, err := tls.X509KeyPair([]byte(chain), []byte(key))
	if err != nil {
		return "", "", "", fmt.Errorf("certificate and key do not form a usable pair: %w", err)
	}
	switch pair.PrivateKey.(type) {
	case *rsa.PrivateKey:
		keyType = "rsa"
	case *ecdsa.PrivateKey:
		keyType = "ecdsa"
	default:
		return "", "", "", fmt.Errorf("unsupported private key type %T (RSA or ECDSA only)", pair.PrivateKey)
	}
	return chain, key, keyType, nil
}
