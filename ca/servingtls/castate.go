package servingtls

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/smallstep/certificates/cas/apiv1"
	"github.com/smallstep/certificates/cas/softcas"
	kmsapi "go.step.sm/crypto/kms/apiv1"
	"go.step.sm/crypto/x509util"

	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/store"
)

// StateKey is where the store keeps the control-plane CA. It is outside the "ca/" prefix of
// the mesh CAs on purpose: deleting a mesh's state never touches it.
const StateKey = "controlplane/ca"

// CAName is the generated CA's subject common name.
const CAName = "meshgate control plane CA"

// StateReader is the part of store.Store that LoadCAPEM needs.
type StateReader interface {
	GetState(ctx context.Context, key string) (value []byte, version int64, err error)
}

// StateStore is the part of store.Store a generated Source needs; store.Store satisfies it.
type StateStore interface {
	StateReader
	PutState(ctx context.Context, key string, value []byte, expectedVersion int64) (version int64, err error)
}

// caState is the stored value: the CA certificate and its key, as PEM.
type caState struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// controlPlaneCA is the loaded CA, wrapped in smallstep's softcas to sign leaves.
type controlPlaneCA struct {
	cert *x509.Certificate
	pem  []byte
	cas  *softcas.SoftCAS
}

// loadOrCreateCA returns the stored CA, creating it if there is none. Replicas starting at once
// may each generate one; the create-only write lets exactly one win, and the others read the
// winner's, so every replica serves under the same CA.
func loadOrCreateCA(ctx context.Context, st StateStore, now time.Time, log *slog.Logger) (*controlPlaneCA, error) {
	for range 2 {
		val, _, err := st.GetState(ctx, StateKey)
		if err == nil {
			return decodeCA(ctx, val, now)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("read control-plane CA (state %s): %w", StateKey, err)
		}
		val, err = generateCA(ctx, now)
		if err != nil {
			return nil, err
		}
		_, err = st.PutState(ctx, StateKey, val, -1)
		if err == nil {
			ca, err := decodeCA(ctx, val, now)
			if err == nil {
				log.Info("control-plane TLS: created the control-plane CA", "state", StateKey,
					"serial", ca.cert.SerialNumber.Text(16), "notAfter", ca.cert.NotAfter.UTC())
			}
			return ca, err
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("save control-plane CA (state %s): %w", StateKey, err)
		}
		log.Info("control-plane TLS: another replica created the control-plane CA first; using it", "state", StateKey)
	}
	return nil, fmt.Errorf("control-plane CA (state %s) was written concurrently but cannot be read back", StateKey)
}

// generateCA creates the CA through softcas, as package ca creates a mesh root, and returns
// it as caState JSON.
func generateCA(ctx context.Context, now time.Time) ([]byte, error) {
	serial, err := certs.NewSerial()
	if err != nil {
		return nil, fmt.Errorf("generate control-plane CA: %w", err)
	}
	tmpl := (&x509util.Certificate{
		Subject: x509util.Subject{Organization: x509util.MultiString{"meshgate"}, CommonName: CAName},
		// CertSign only for leaves: path length 0, since nothing below it issues.
		KeyUsage:         x509util.KeyUsage(x509.KeyUsageCertSign | x509.KeyUsageCRLSign),
		BasicConstraints: &x509util.BasicConstraints{IsCA: true, MaxPathLen: 0},
		SerialNumber:     x509util.SerialNumber{Int: serial},
		NotBefore:        now.Add(-Backdate),
		NotAfter:         now.Add(CAValidity),
	}).GetCertificate()
	creator, err := softcas.New(ctx, apiv1.Options{IsCreator: true})
	if err != nil {
		return nil, fmt.Errorf("generate control-plane CA: softcas: %w", err)
	}
	resp, err := creator.CreateCertificateAuthority(&apiv1.CreateCertificateAuthorityRequest{
		Name:      CAName,
		Type:      apiv1.RootCA,
		Template:  tmpl,
		Lifetime:  CAValidity,
		Backdate:  Backdate,
		CreateKey: &kmsapi.CreateKeyRequest{SignatureAlgorithm: kmsapi.ECDSAWithSHA256},
	})
	if err != nil {
		return nil, fmt.Errorf("generate control-plane CA: %w", err)
	}
	signer, ok := resp.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("generate control-plane CA: softkms returned a %T, not a private key", resp.PrivateKey)
	}
	keyPEM, err := certs.EncodePrivateKey(signer)
	if err != nil {
		return nil, fmt.Errorf("generate control-plane CA: %w", err)
	}
	val, err := json.Marshal(caState{Cert: string(certs.EncodeCertificates(resp.Certificate)), Key: string(keyPEM)})
	if err != nil {
		return nil, fmt.Errorf("generate control-plane CA: %w", err)
	}
	return val, nil
}

// decodeCA parses and checks a stored CA. An expired one is an error rather than silently
// replaced: clients pinned to it must be told to trust a new one.
func decodeCA(ctx context.Context, val []byte, now time.Time) (*controlPlaneCA, error) {
	cert, key, err := parseCAState(val)
	if err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("stored control-plane CA (state %s): "+format, append([]any{StateKey}, args...)...)
	}
	switch {
	case !cert.BasicConstraintsValid || !cert.IsCA:
		return nil, fail("not a CA certificate")
	case cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return nil, fail("key usage lacks certificate signing")
	case !bytes.Equal(cert.RawIssuer, cert.RawSubject) || cert.CheckSignatureFrom(cert) != nil:
		return nil, fail("not self-signed")
	case !now.Before(cert.NotAfter):
		return nil, fail("expired at %s; delete that state entry to generate a new CA (clients must then trust the new one)",
			cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if err := certs.KeyMatches(cert.PublicKey, key); err != nil {
		return nil, fail("%v", err)
	}
	cas, err := softcas.New(ctx, apiv1.Options{CertificateChain: []*x509.Certificate{cert}, Signer: key})
	if err != nil {
		return nil, fail("softcas: %v", err)
	}
	return &controlPlaneCA{cert: cert, pem: certs.EncodeCertificates(cert), cas: cas}, nil
}

func parseCAState(val []byte) (*x509.Certificate, crypto.Signer, error) {
	var st caState
	if err := json.Unmarshal(val, &st); err != nil {
		return nil, nil, fmt.Errorf("stored control-plane CA (state %s): %w", StateKey, err)
	}
	chain, err := certs.ParseCertificates([]byte(st.Cert))
	if err != nil {
		return nil, nil, fmt.Errorf("stored control-plane CA (state %s): %w", StateKey, err)
	}
	if len(chain) != 1 {
		return nil, nil, fmt.Errorf("stored control-plane CA (state %s): %d certificates, want 1", StateKey, len(chain))
	}
	key, err := certs.ParsePrivateKey([]byte(st.Key))
	if err != nil {
		return nil, nil, fmt.Errorf("stored control-plane CA (state %s): %w", StateKey, err)
	}
	return chain[0], key, nil
}

// LoadCAPEM reads the generated control-plane CA certificate from a store without creating it,
// for commands that print it (`meshgate ca control-plane` against the data dir). It wraps
// store.ErrNotFound when no control plane has started on that store yet.
func LoadCAPEM(ctx context.Context, st StateReader) ([]byte, error) {
	val, _, err := st.GetState(ctx, StateKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("control-plane CA (state %s): %w: it is created when the control plane first starts", StateKey, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read control-plane CA (state %s): %w", StateKey, err)
	}
	cert, _, err := parseCAState(val)
	if err != nil {
		return nil, err
	}
	return certs.EncodeCertificates(cert), nil
}
