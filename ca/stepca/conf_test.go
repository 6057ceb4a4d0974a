package stepca

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/keyutil"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

const fp = "4ac936a896390c5e4ecee4c3b9e349ed184eeb6f40abd8b6148abeae5b61618c"

// fakeSources stands for the mesh's Secrets and files.
func fakeSources(files map[string]string) func(api.DataSource) ([]byte, error) {
	return func(ds api.DataSource) ([]byte, error) {
		switch {
		case ds.InlineString != "":
			return []byte(ds.InlineString), nil
		case ds.File != "":
			if s, ok := files[ds.File]; ok {
				return []byte(s), nil
			}
			return nil, errors.New("open " + ds.File + ": no such file")
		default:
			return nil, errors.New("unexpected source")
		}
	}
}

func validConf() map[string]any {
	return map[string]any{
		"url":             "https://127.0.0.1:9000",
		"rootFingerprint": fp,
		"provisioner":     "meshgate",
		"password":        map[string]any{"file": "/run/pw"},
	}
}

func TestConfigFromConf(t *testing.T) {
	cfg, err := ConfigFromConf(validConf(), fakeSources(map[string]string{"/run/pw": "s3cret\n"}))
	require.NoError(t, err)
	assert.Equal(t, Config{
		URL:                 "https://127.0.0.1:9000",
		RootFingerprint:     fp,
		Provisioner:         "meshgate",
		ProvisionerPassword: []byte("s3cret"), // trailing newline trimmed, as step does
	}, cfg)
}

func TestConfigFromConfRootCertificate(t *testing.T) {
	rootPEM, rootFP := selfSigned(t)
	conf := validConf()
	conf["root"] = map[string]any{"inlineString": string(rootPEM)}

	conf["rootFingerprint"] = rootFP
	cfg, err := ConfigFromConf(conf, fakeSources(map[string]string{"/run/pw": "pw"}))
	require.NoError(t, err)
	assert.Equal(t, rootPEM, cfg.RootPEM)

	delete(conf, "rootFingerprint")
	_, err = ConfigFromConf(conf, fakeSources(map[string]string{"/run/pw": "pw"}))
	require.NoError(t, err, "the certificate alone is enough")

	conf["rootFingerprint"] = fp
	_, err = ConfigFromConf(conf, fakeSources(map[string]string{"/run/pw": "pw"}))
	require.EqualError(t, err, "conf.root: the certificate's SHA-256 fingerprint "+rootFP+" does not match rootFingerprint "+fp)
}

func TestConfigFromConfErrors(t *testing.T) {
	sources := fakeSources(map[string]string{"/run/pw": "pw", "/run/blank": " \n"})
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		want []string
	}{
		{"missing url", func(c map[string]any) { delete(c, "url") }, []string{"conf.url: required"}},
		{"http url", func(c map[string]any) { c["url"] = "http://ca:9000" }, []string{`conf.url: "http://ca:9000" must be an https URL`}},
		{"url not a string", func(c map[string]any) { c["url"] = 9000 }, []string{"conf.url: must be a string, got int"}},
		{"missing provisioner", func(c map[string]any) { delete(c, "provisioner") }, []string{"conf.provisioner: required"}},
		{"missing root", func(c map[string]any) { delete(c, "rootFingerprint") }, []string{"conf: one of rootFingerprint or root is required"}},
		{"bad fingerprint", func(c map[string]any) { c["rootFingerprint"] = "abc" }, []string{`conf.rootFingerprint: "abc" is not a SHA-256 fingerprint`}},
		{"root not PEM", func(c map[string]any) { c["root"] = map[string]any{"inlineString": "nope"} }, []string{"conf.root:"}},
		{"missing password", func(c map[string]any) { delete(c, "password") }, []string{"conf.password: required"}},
		{"empty password", func(c map[string]any) { c["password"] = map[string]any{"file": "/run/blank"} }, []string{"conf.password: is empty"}},
		{"unreadable password", func(c map[string]any) { c["password"] = map[string]any{"file": "/nope"} }, []string{"conf.password: open /nope: no such file"}},
		{"password as plain string", func(c map[string]any) { c["password"] = "pw" }, []string{"conf.password: must be a data source"}},
		{"two sources", func(c map[string]any) { c["password"] = map[string]any{"file": "/run/pw", "secret": "s"} }, []string{"conf.password: only one of"}},
		{"no source", func(c map[string]any) { c["password"] = map[string]any{} }, []string{"conf.password: data source has to be chosen"}},
		{"unknown source", func(c map[string]any) { c["password"] = map[string]any{"env": "PW"} }, []string{"conf.password: env: unknown field"}},
		{"unknown field", func(c map[string]any) { c["provisionerType"] = "X5C" }, []string{"conf.provisionerType: unknown field"}},
		{"everything missing at once", func(c map[string]any) { clear(c) }, []string{
			"conf.url: required", "conf.provisioner: required", "conf: one of rootFingerprint or root", "conf.password: required",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := validConf()
			tc.edit(conf)
			_, err := ConfigFromConf(conf, sources)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// New refuses a bad Config before touching the network.
func TestNewChecksConfigFirst(t *testing.T) {
	_, err := New(t.Context(), Config{URL: "https://127.0.0.1:1"})
	require.Error(t, err)
	for _, w := range []string{"stepca https://127.0.0.1:1: config:", "provisioner: required", "password: required", "rootFingerprint or root"} {
		assert.Contains(t, err.Error(), w)
	}
}

func TestNormalizeFingerprint(t *testing.T) {
	upper := strings.ToUpper(fp)
	var colons []string
	for i := 0; i < len(upper); i += 2 {
		colons = append(colons, upper[i:i+2])
	}
	for _, in := range []string{fp, upper, strings.Join(colons, ":"), " " + fp + "\n"} {
		got, err := normalizeFingerprint(in)
		require.NoError(t, err, in)
		assert.Equal(t, fp, got)
	}
}

func selfSigned(t *testing.T) (pemBytes []byte, fingerprint string) {
	t.Helper()
	key, err := keyutil.GenerateSigner("EC", "P-256", 0)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test root"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), fingerprintOf(c)
}
