package render_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/certs"
	"github.com/meshgate/meshgate/certs/certstest"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/render"
)

var update = flag.Bool("update", false, "rewrite golden files")

const goldenDir = "../testdata/golden"

// goldenCase is `case.yaml`.
type goldenCase struct {
	Description string `json:"description"`
	Dataplane   string `json:"dataplane"`
	Spec        string `json:"spec"`
	// CA renders the dataplane as the control plane serves it: with an identity issued by a
	// test CA of its mesh and the trust bundle of every mTLS mesh (cross-mesh listeners are
	// only built with them). The generated PEM is replaced by `@@PEM identity <mesh>@@` and
	// `@@PEM bundle <mesh>@@` in the outputs.
	CA bool `json:"ca"`
	// Zone is build.Options.Zone: the local zone of a multi-zone case, "" for standalone.
	Zone string `json:"zone"`
}

// TestGolden renders every case under testdata/golden and compares the IR (ir.yaml) and each
// resource type with its golden file. Translation already ValidateAll()s every resource and snapshot.New checks
// Consistent(); the test re-checks both so a golden can never record an invalid config.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "*", "input.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs, "no golden cases found")
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := readCase(t, dir)
			m, gen := loadCase(t, dir)
			out := renderCase(t, c, m, gen)
			doc, err := render.NewDocument(out.Resources)
			require.NoError(t, err)
			diags := out.Proxy.Diagnostics
			if diags == nil {
				diags = []api.FieldError{}
			}
			files := map[string]any{
				"listeners.yaml":   doc.Listeners,
				"routes.yaml":      doc.Routes,
				"clusters.yaml":    doc.Clusters,
				"endpoints.yaml":   doc.Endpoints,
				"secrets.yaml":     doc.Secrets,
				"diagnostics.yaml": diags,
				"ir.yaml":          irDocument(out.Proxy, gen),
			}
			for file, v := range files {
				if list, ok := v.([]any); ok {
					gen.scrub(list)
				}
				got, err := render.Marshal(v, "yaml")
				require.NoError(t, err)
				require.NotContains(t, string(got), "-----BEGIN", "%s would record generated key material", file)
				compareGolden(t, filepath.Join(dir, file), got)
			}
			checkRequests(t, dir, out)
		})
	}
}

// renderCase renders the case's dataplane, with the CA for a `ca: true` case (adding the
// generated PEM texts to gen), and checks that every resource is valid and the snapshot
// consistent.
func renderCase(t *testing.T, c goldenCase, m *model.Model, gen *generatedCerts) *render.Output {
	t.Helper()
	mesh, name, err := render.ParseDataplane(c.Dataplane)
	require.NoError(t, err)
	var out *render.Output
	if c.CA {
		req, pems := caRequest(t, m, mesh, name)
		req.Options.Zone = c.Zone
		out, err = render.Render(req)
		for pem, ph := range pems {
			gen.pems = append(gen.pems, pemPlaceholder{pem: pem, placeholder: ph})
		}
		// Longest first, so a bundle of several roots is replaced before any one root.
		sort.Slice(gen.pems, func(i, j int) bool {
			a, b := gen.pems[i], gen.pems[j]
			return len(a.pem) > len(b.pem) || len(a.pem) == len(b.pem) && a.pem < b.pem
		})
	} else {
		opts := build.DefaultOptions()
		opts.Zone = c.Zone
		out, err = render.Dataplane(m, mesh, name, opts)
	}
	require.NoError(t, err)
	require.NoError(t, out.Snapshot.Consistent())
	for _, typ := range out.Snapshot.Resources {
		for name, r := range typ.Items {
			v, ok := r.Resource.(interface{ ValidateAll() error })
			require.True(t, ok, name)
			require.NoError(t, v.ValidateAll(), name)
		}
	}
	return out
}

func readCase(t *testing.T, dir string) goldenCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "case.yaml"))
	require.NoError(t, err)
	var c goldenCase
	require.NoError(t, yaml.UnmarshalStrict(raw, &c))
	return c
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing; run go test ./xds/... -update")
	require.Equal(t, string(want), string(got), "%s differs; run go test ./xds/... -update and review the diff", path)
}

// certPlaceholder is `@@CERT <type> <name>@@` (a private key and a self-signed certificate,
// as a server certificate Secret holds them) or `@@CACERT <type> <name>@@` (a self-signed CA
// certificate alone, as an ExternalService's tls.caCert holds it).
var certPlaceholder = regexp.MustCompile(`@@(CERT|CACERT) (rsa|ecdsa) ([^@\s]+)@@`)

// generatedCerts maps certificates generated for this run back to their placeholders, so
// goldens hold no key material and nothing that expires.
type generatedCerts struct {
	// byPEM maps a `@@CERT@@` certificate, which appears whole, to its placeholder.
	byPEM map[string]string
	// pems are the CA-issued identities and bundles of a `ca: true` case. They may appear
	// inside a longer string (a bundle of several roots), so they are replaced as substrings.
	pems []pemPlaceholder
}

type pemPlaceholder struct{ pem, placeholder string }

// scrub replaces, in a decoded document, every string that is a generated certificate.
func (g *generatedCerts) scrub(v any) any {
	switch t := v.(type) {
	case string:
		if ph, ok := g.byPEM[t]; ok {
			return ph
		}
		for _, p := range g.pems {
			t = strings.ReplaceAll(t, p.pem, p.placeholder)
		}
		return t
	case map[string]any:
		for k, child := range t {
			t[k] = g.scrub(child)
		}
	case []any:
		for i, child := range t {
			t[i] = g.scrub(child)
		}
	}
	return v
}

// loadCase loads input.yaml with every `@@CERT type name@@` replaced by a fresh certificate.
func loadCase(t *testing.T, dir string) (*model.Model, *generatedCerts) {
	t.Helper()
	objs, gen := loadObjects(t, dir)
	m, merrs := model.Build(objs)
	require.Empty(t, merrs, "input.yaml: %v", merrs)
	return m, gen
}

// loadObjects decodes input.yaml with every `@@CERT type name@@` replaced by a fresh certificate.
func loadObjects(t *testing.T, dir string) ([]api.Object, *generatedCerts) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	require.NoError(t, err)
	gen := &generatedCerts{byPEM: map[string]string{}}
	text := certPlaceholder.ReplaceAllStringFunc(string(raw), func(ph string) string {
		m := certPlaceholder.FindStringSubmatch(ph)
		bundle, certPEM := selfSignedCert(t, m[2], m[3], m[1] == "CACERT")
		gen.byPEM[certPEM] = ph
		if m[1] == "CACERT" {
			return base64.StdEncoding.EncodeToString([]byte(certPEM))
		}
		return base64.StdEncoding.EncodeToString(bundle)
	})
	objs, errs := api.Decode(filepath.Join(dir, "input.yaml"), []byte(text))
	require.Empty(t, errs, "input.yaml: %v", errs)
	return objs, gen
}

func selfSigned(t *testing.T, keyType, dnsName string) (bundle []byte, certPEM string) {
	t.Helper()
	return selfSignedCert(t, keyType, dnsName, false)
}

func selfSignedCert(t *testing.T, keyType, dnsName string, isCA bool) (bundle []byte, certPEM string) {
	t.Helper()
	var key any
	var err error
	if keyType == "rsa" {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: dnsName},
		DNSNames:     []string{dnsName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	pub := key.(crypto.Signer).Public()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	return []byte(strings.Join([]string{keyPEM, certPEM}, "")), certPEM
}

// caRequest is the build request of a `ca: true` case: a test root per mTLS mesh, the
// dataplane's identity issued by its mesh's root (the SPIFFE IDs of its services and a
// `kuma://` URI per tag, as the CA issues them), and every mTLS mesh's bundle. It returns the
// generated PEM texts with their placeholders.
func caRequest(t *testing.T, m *model.Model, mesh, name string) (build.Request, map[string]string) {
	t.Helper()
	req := build.Request{Model: m, Mesh: mesh, Name: name, Options: build.DefaultOptions(), MeshBundles: map[string]string{}}
	pems := map[string]string{}
	roots := map[string]*certstest.CA{}
	for _, ms := range m.Meshes() {
		if !ms.MTLSEnabled() {
			continue
		}
		roots[ms.Name] = certstest.NewRoot(t, ms.Name+" CA")
		bundle := string(roots[ms.Name].CertPEM())
		req.MeshBundles[ms.Name] = bundle
		pems[bundle] = fmt.Sprintf("@@PEM bundle %s@@", ms.Name)
	}
	ms := m.Mesh(mesh)
	require.NotNil(t, ms, "mesh %q", mesh)
	dp := ms.Dataplane(name)
	require.NotNil(t, dp, "dataplane %s/%s", mesh, name)
	root := roots[mesh]
	if root == nil {
		// A mesh without mTLS has no identity, as the control plane serves it.
		return req, pems
	}
	id := certs.Identity{Mesh: mesh, Tags: map[string][]string{}}
	var sets []map[string]string
	if g := dp.Spec.Networking.Gateway; g != nil {
		sets = append(sets, g.Tags)
	}
	for _, in := range dp.Spec.Networking.Inbound {
		sets = append(sets, in.Tags)
	}
	for _, set := range sets {
		for k, v := range set {
			id.Tags[k] = append(id.Tags[k], v)
		}
	}
	for _, vs := range id.Tags {
		sort.Strings(vs)
	}
	id.Services = id.Tags[api.ServiceTag]
	uris, err := id.URIs()
	require.NoError(t, err)
	key, err := certs.GenerateKey(certs.ECDSAP256)
	require.NoError(t, err)
	keyPEM, err := certs.EncodePrivateKey(key)
	require.NoError(t, err)
	leaf := root.SignLeaf(t, certs.LeafParams{URIs: uris, PublicKey: key.Public()})
	chain := string(certs.EncodeCertificates(leaf))
	pems[chain] = fmt.Sprintf("@@PEM identity %s@@", mesh)
	pems[string(keyPEM)] = fmt.Sprintf("@@PEM key %s@@", mesh)
	req.Identity = &build.Identity{CertificateChain: chain, PrivateKey: string(keyPEM), TrustBundle: req.MeshBundles[mesh]}
	return req, pems
}
