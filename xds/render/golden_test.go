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
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/render"
)

var update = flag.Bool("update", false, "rewrite golden files")

const goldenDir = "../testdata/golden"

// goldenCase is `case.yaml`.
type goldenCase struct {
	Description string `json:"description"`
	Dataplane   string `json:"dataplane"`
	Spec        string `json:"spec"`
}

// TestGolden renders every case under testdata/golden and compares each resource type with its
// golden file. Translation already ValidateAll()s every resource and snapshot.New checks
// Consistent(); the test re-checks both so a golden can never record an invalid config.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "*", "input.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs, "no golden cases found")
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := readCase(t, dir)
			m, certs := loadCase(t, dir)
			mesh, name, err := render.ParseDataplane(c.Dataplane)
			require.NoError(t, err)
			out, err := render.Dataplane(m, mesh, name, build.DefaultOptions())
			require.NoError(t, err)
			require.NoError(t, out.Snapshot.Consistent())
			for _, typ := range out.Snapshot.Resources {
				for name, r := range typ.Items {
					v, ok := r.Resource.(interface{ ValidateAll() error })
					require.True(t, ok, name)
					require.NoError(t, v.ValidateAll(), name)
				}
			}
			doc, err := render.NewDocument(out.Resources)
			require.NoError(t, err)
			diags := out.Proxy.Diagnostics
			if diags == nil {
				diags = []ir.Diagnostic{}
			}
			files := map[string]any{
				"listeners.yaml":   doc.Listeners,
				"routes.yaml":      doc.Routes,
				"clusters.yaml":    doc.Clusters,
				"endpoints.yaml":   doc.Endpoints,
				"secrets.yaml":     doc.Secrets,
				"diagnostics.yaml": diags,
			}
			for file, v := range files {
				if list, ok := v.([]any); ok {
					certs.scrub(list)
				}
				got, err := render.Marshal(v, "yaml")
				require.NoError(t, err)
				compareGolden(t, filepath.Join(dir, file), got)
			}
			checkRequests(t, dir, out)
		})
	}
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

var certPlaceholder = regexp.MustCompile(`@@CERT (rsa|ecdsa) ([^@\s]+)@@`)

// generatedCerts maps certificates generated for this run back to their placeholders, so
// goldens hold no key material and nothing that expires.
type generatedCerts map[string]string

// scrub replaces, in a decoded document, every string that is a generated certificate.
func (g generatedCerts) scrub(v any) any {
	switch t := v.(type) {
	case string:
		if ph, ok := g[t]; ok {
			return ph
		}
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
func loadCase(t *testing.T, dir string) (*model.Model, generatedCerts) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	require.NoError(t, err)
	certs := generatedCerts{}
	text := certPlaceholder.ReplaceAllStringFunc(string(raw), func(ph string) string {
		m := certPlaceholder.FindStringSubmatch(ph)
		bundle, certPEM := selfSigned(t, m[1], m[2])
		certs[certPEM] = ph
		return base64.StdEncoding.EncodeToString(bundle)
	})
	objs, errs := api.Decode(filepath.Join(dir, "input.yaml"), []byte(text))
	require.Empty(t, errs, "input.yaml: %v", errs)
	m, merrs := model.Build(objs)
	require.Empty(t, merrs, "input.yaml: %v", merrs)
	return m, certs
}

func selfSigned(t *testing.T, keyType, dnsName string) (bundle []byte, certPEM string) {
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
	pub := key.(crypto.Signer).Public()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	return []byte(strings.Join([]string{keyPEM, certPEM}, "")), certPEM
}
