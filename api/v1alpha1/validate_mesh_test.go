package v1alpha1

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMeshValidation(t *testing.T) {
	e := func(line int, rest string) string { return sprintf("test.yaml:%d: Mesh m: ", line) + rest }
	const head = "type: Mesh\nname: m\nmtls:\n"
	runErrCases(t, []errCase{
		{"valid", head + `  enabledBackend: ca-2
  backends:
  - {name: ca-1, type: builtin, mode: PERMISSIVE, dpCert: {rotation: {expiration: 1d}}}
  - {name: ca-2, type: provided, dpCert: {requestTimeout: 10s}, rootChain: {requestTimeout: 1m}}
  - {name: ca-3, type: stepca, conf: {url: "https://ca:9000"}}
`, nil},
		{"duplicate backend names", head + "  backends:\n  - {name: ca-1, type: builtin}\n  - name: ca-1\n    type: builtin\n", []string{
			e(6, `mtls.backends[1].name: "ca-1" name is already used for another backend`)}},
		{"enabledBackend not among backends", head + "  enabledBackend: ca-2\n  backends: [{name: ca-1, type: builtin}]\n", []string{
			e(4, "mtls.enabledBackend: has to be set to one of the backends in the mesh")}},
		{"invalid expiration", head + "  backends:\n  - name: ca-1\n    type: builtin\n    dpCert:\n      rotation:\n        expiration: 2e\n", []string{
			e(9, "mtls.backends[0].dpCert.rotation.expiration: has to be a valid format")}},
		{"non-positive durations", head + "  backends:\n  - name: ca-1\n    type: builtin\n    dpCert: {rotation: {expiration: 0s}, requestTimeout: -1s}\n", []string{
			e(7, "mtls.backends[0].dpCert.requestTimeout: must be a positive duration"),
			e(7, "mtls.backends[0].dpCert.rotation.expiration: must be a positive duration")}},
		{"backend type", head + "  backends:\n  - name: ca-1\n    type: vault\n  - name: ca-2\n", []string{
			e(6, `mtls.backends[0].type: unknown backend type "vault". Allowed values: builtin, provided, stepca`),
			e(7, "mtls.backends[1].type: cannot be empty")}},
		{"backend name and mode", head + "  backends:\n  - type: builtin\n  - name: CA_1\n    type: builtin\n    mode: LAX\n", []string{
			e(5, "mtls.backends[0].name: cannot be empty"),
			e(6, "mtls.backends[1].name: "+nameCharsetMsg),
			e(8, `mtls.backends[1].mode: has invalid value "LAX". Allowed values: STRICT, PERMISSIVE`)}},
	})
}

func TestMeshLoggingValidation(t *testing.T) {
	e := func(line int, rest string) string { return sprintf("test.yaml:%d: Mesh m: ", line) + rest }
	const head = "type: Mesh\nname: m\nlogging:\n"
	runErrCases(t, []errCase{
		{"valid", head + `  defaultBackend: tcp
  backends:
  - name: file
    type: file
    format: '%START_TIME% %KUMA_SOURCE_SERVICE%'
    conf: {path: /dev/stdout}
  - {name: tcp, type: tcp, conf: {address: "logstash.logging:5000"}}
  - {name: tcp6, type: tcp, conf: {address: "[::1]:5000"}}
`, nil},
		{"empty logging", head + "  backends: []\n", nil},
		{"names", head + "  backends:\n  - {type: file, conf: {path: /a}}\n  - {name: f, type: file, conf: {path: /a}}\n  - name: f\n    type: file\n    conf: {path: /b}\n", []string{
			e(5, "logging.backends[0].name: cannot be empty"),
			e(7, `logging.backends[2].name: "f" name is already used for another backend`)}},
		{"types", head + "  backends:\n  - name: a\n    type: syslog\n  - name: b\n", []string{
			e(6, `logging.backends[0].type: unknown backend type. Available backends: "tcp", "file"`),
			e(7, `logging.backends[1].type: unknown backend type. Available backends: "tcp", "file"`)}},
		{"file without path", head + "  backends:\n  - name: a\n    type: file\n  - {name: b, type: file, conf: {path: \"\"}}\n", []string{
			e(5, "logging.backends[0].conf.path: cannot be empty"),
			e(7, "logging.backends[1].conf.path: cannot be empty")}},
		{"file conf of the wrong shape", head + "  backends:\n  - name: a\n    type: file\n    conf:\n      path: 5\n      address: x:1\n", []string{
			e(7, `logging.backends[0].conf: unknown field "address"`),
			e(8, "logging.backends[0].conf.path: must be a string")}},
		{"tcp without address", head + "  backends:\n  - name: a\n    type: tcp\n    conf: {path: /a}\n", []string{
			e(7, `logging.backends[0].conf: unknown field "path"`),
			e(7, "logging.backends[0].conf.address: cannot be empty")}},
		{"tcp address not host:port", head + `  backends:
  - {name: a, type: tcp, conf: {address: logstash}}
  - {name: b, type: tcp, conf: {address: ":5000"}}
  - {name: c, type: tcp, conf: {address: "logstash:syslog"}}
  - {name: d, type: tcp, conf: {address: "logstash:0"}}
  - {name: e, type: tcp, conf: {address: "logstash:65536"}}
`, []string{
			e(5, "logging.backends[0].conf.address: has to be in format of HOST:PORT"),
			e(6, "logging.backends[1].conf.address: has to be in format of HOST:PORT"),
			e(7, "logging.backends[2].conf.address: has to be in format of HOST:PORT"),
			e(8, "logging.backends[3].conf.address: port must be in the range [1, 65535]"),
			e(9, "logging.backends[4].conf.address: port must be in the range [1, 65535]")}},
		{"defaultBackend not among backends", head + "  defaultBackend: file\n  backends: [{name: tcp, type: tcp, conf: {address: \"a:1\"}}]\n", []string{
			e(4, "logging.defaultBackend: has to be set to one of the logging backend in mesh")}},
		{"defaultBackend without backends", head + "  defaultBackend: file\n", []string{
			e(4, "logging.defaultBackend: has to be set to one of the logging backend in mesh")}},
		{"unknown logging field", head + "  backend: []\n", []string{
			e(4, `logging: unknown field "backend"`)}},
		{"backend conf not a mapping", head + "  backends: [{name: a, type: file, conf: /a}]\n", []string{
			e(4, "logging.backends[0].conf: must be a mapping")}},
	})
}

func TestLoggingAccessors(t *testing.T) {
	objs, errs := LoadFiles([]string{"testdata/policies/mesh-logging.yaml"})
	require.Empty(t, errs)
	l := objs[0].(*Mesh).Spec.Logging
	require.NotNil(t, l)
	def := l.Backend("")
	require.NotNil(t, def)
	assert.Equal(t, "file", def.Name)
	assert.Equal(t, LoggingBackendFile, def.Type)
	assert.Equal(t, "/tmp/access.log", def.FilePath())
	assert.Equal(t, "", def.TCPAddress())
	assert.Contains(t, def.Format, "%KUMA_SOURCE_SERVICE%")
	tcp := l.Backend("logstash")
	require.NotNil(t, tcp)
	assert.Equal(t, "127.0.0.1:5000", tcp.TCPAddress())
	assert.Equal(t, "", tcp.FilePath())
	assert.Nil(t, l.Backend("nope"))

	assert.Nil(t, (&Logging{Backends: []LoggingBackend{{Name: "a"}}}).Backend(""), "no default backend")
	var none *Logging
	assert.Nil(t, none.Backend(""))
	assert.Equal(t, "", LoggingBackend{Conf: map[string]any{"path": 5}}.FilePath())
}

func TestSecretValidation(t *testing.T) {
	runErrCases(t, []errCase{
		{"valid", "type: Secret\nname: s\ndata: aGVsbG8=\n", nil},
		{"no data", "type: Secret\nname: s\n", []string{
			"test.yaml:1: Secret default/s: data: cannot be empty"}},
		{"not base64", "type: Secret\nname: s\ndata: hello world\n", []string{
			"test.yaml:3: Secret default/s: data: must be valid base64"}},
	})
}

func TestNameValidation(t *testing.T) {
	runErrCases(t, []errCase{
		{"uppercase name", "type: Secret\nmesh: default\nname: My_Secret\ndata: aGk=\n", []string{
			"test.yaml:3: Secret default/My_Secret: name: " + nameCharsetMsg}},
		{"long name", "type: Mesh\nname: " + strings.Repeat("a", 254) + "\n", []string{
			"test.yaml:2: Mesh " + strings.Repeat("a", 254) + ": name: value length must less or equal 253"}},
		{"mesh reference may use underscores", "type: Secret\nmesh: legacy_mesh\nname: s\ndata: aGk=\n", nil},
		{"invalid mesh reference", "type: Secret\nmesh: Legacy\nname: s\ndata: aGk=\n", []string{
			"test.yaml:2: Secret Legacy/s: mesh: " + meshRefCharsetMsg}},
	})

	// Objects built in code (not decoded) are checked the same way, without locations.
	errs := (&Secret{Meta: Meta{Kind: KindSecret}}).Validate()
	assert.Equal(t, []string{"name: cannot be empty", "mesh: cannot be empty", "data: cannot be empty"}, errStrings(errs))
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"24h":     24 * time.Hour,
		"1d":      24 * time.Hour,
		"1d12h":   36 * time.Hour,
		"10y":     10 * 365 * 24 * time.Hour,
		"1.5d":    36 * time.Hour,
		"90m":     90 * time.Minute,
		"500ms":   500 * time.Millisecond,
		"-1d":     -24 * time.Hour,
		"0":       0,
		"1h30m2s": time.Hour + 30*time.Minute + 2*time.Second,
	} {
		got, err := ParseDuration(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "2e", "d", "1w", "1.2.3d", "abc", "99999999999y", "1", "h"} {
		_, err := ParseDuration(in)
		assert.Error(t, err, in)
	}
}
