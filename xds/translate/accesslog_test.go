package translate

import (
	"regexp"
	"testing"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	fluentdv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/fluentd/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/xds/ir"
)

func TestAccessLogs(t *testing.T) {
	sink := &ir.TCPLogSink{Cluster: "access_log_sink:logstash"}
	cases := []struct {
		name  string
		in    ir.AccessLog
		def   string
		check func(t *testing.T, l *accesslogv3.AccessLog)
	}{
		{"file with format", ir.AccessLog{Backend: "f", Path: "/tmp/access.log", Format: "%RESPONSE_CODE%\n"}, defaultHTTPAccessLogFormat, func(t *testing.T, l *accesslogv3.AccessLog) {
			assert.Equal(t, "envoy.access_loggers.file", l.GetName())
			f := unpack(t, l.GetTypedConfig(), &filev3.FileAccessLog{})
			requireValid(t, f)
			assert.Equal(t, "/tmp/access.log", f.GetPath())
			assert.Equal(t, "%RESPONSE_CODE%\n", f.GetLogFormat().GetTextFormatSource().GetInlineString())
		}},
		{"file with the HTTP default", ir.AccessLog{Path: "/dev/stdout"}, defaultHTTPAccessLogFormat, func(t *testing.T, l *accesslogv3.AccessLog) {
			f := unpack(t, l.GetTypedConfig(), &filev3.FileAccessLog{})
			assert.Equal(t, defaultHTTPAccessLogFormat, f.GetLogFormat().GetTextFormatSource().GetInlineString())
		}},
		{"file with the TCP default", ir.AccessLog{Path: "/dev/stdout"}, defaultTCPAccessLogFormat, func(t *testing.T, l *accesslogv3.AccessLog) {
			f := unpack(t, l.GetTypedConfig(), &filev3.FileAccessLog{})
			assert.Equal(t, defaultTCPAccessLogFormat, f.GetLogFormat().GetTextFormatSource().GetInlineString())
		}},
		{"fluentd", ir.AccessLog{Backend: "logstash", TCP: sink, Format: "%START_TIME% %BYTES_SENT%\n"}, defaultHTTPAccessLogFormat, func(t *testing.T, l *accesslogv3.AccessLog) {
			assert.Equal(t, "envoy.access_loggers.fluentd", l.GetName())
			f := unpack(t, l.GetTypedConfig(), &fluentdv3.FluentdAccessLogConfig{})
			requireValid(t, f)
			assert.Equal(t, "access_log_sink:logstash", f.GetCluster())
			assert.Equal(t, "logstash", f.GetTag())
			assert.Equal(t, "logstash", f.GetStatPrefix())
			assert.Equal(t, map[string]any{"message": "%START_TIME% %BYTES_SENT%"}, f.GetRecord().AsMap(), "one record, no trailing newline")
		}},
		{"fluentd with the default", ir.AccessLog{Backend: "logstash", TCP: sink}, defaultTCPAccessLogFormat, func(t *testing.T, l *accesslogv3.AccessLog) {
			f := unpack(t, l.GetTypedConfig(), &fluentdv3.FluentdAccessLogConfig{})
			assert.Equal(t, defaultTCPAccessLogFormat[:len(defaultTCPAccessLogFormat)-1], f.GetRecord().GetFields()["message"].GetStringValue())
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := accessLogs([]ir.AccessLog{c.in}, c.def)
			require.NoError(t, err)
			require.Len(t, out, 1)
			requireValid(t, out[0])
			c.check(t, out[0])
		})
	}
	out, err := accessLogs(nil, defaultHTTPAccessLogFormat)
	require.NoError(t, err)
	assert.Nil(t, out)
}

// Envoy rejects unknown command operators, so the defaults use only Envoy's.
func TestDefaultAccessLogFormatsUseOnlyEnvoyOperators(t *testing.T) {
	known := map[string]bool{
		"START_TIME": true, "REQ": true, "RESP": true, "PROTOCOL": true, "RESPONSE_CODE": true, "RESPONSE_FLAGS": true,
		"BYTES_RECEIVED": true, "BYTES_SENT": true, "DURATION": true, "DOWNSTREAM_PEER_URI_SAN": true,
		"UPSTREAM_CLUSTER": true, "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": true, "UPSTREAM_HOST": true,
	}
	op := regexp.MustCompile(`%([A-Z_0-9]+)(\([^)]*\))?%`)
	for _, f := range []string{defaultHTTPAccessLogFormat, defaultTCPAccessLogFormat} {
		assert.NotContains(t, f, "KUMA")
		assert.Regexp(t, "\n$", f)
		ms := op.FindAllStringSubmatch(f, -1)
		require.NotEmpty(t, ms)
		for _, m := range ms {
			assert.True(t, known[m[1]], "unknown operator %s", m[0])
		}
	}
}

func TestAccessLogsOnConnectionManagerAndTCPProxy(t *testing.T) {
	h := *fixture().Listeners[1].FilterChains[0].HTTP
	h.AccessLogs = []ir.AccessLog{{Path: "/a"}, {Path: "/b", Format: "x\n"}}
	hcm := translateHCM(t, h)
	require.Len(t, hcm.GetAccessLog(), 2)
	first := unpack(t, hcm.GetAccessLog()[0].GetTypedConfig(), &filev3.FileAccessLog{})
	assert.Equal(t, "/a", first.GetPath())
	assert.Equal(t, defaultHTTPAccessLogFormat, first.GetLogFormat().GetTextFormatSource().GetInlineString())
	assert.Equal(t, "/b", unpack(t, hcm.GetAccessLog()[1].GetTypedConfig(), &filev3.FileAccessLog{}).GetPath())

	fc := tcpChain(ir.WeightedCluster{Name: "db", Weight: 1})
	fc.TCP.AccessLogs = []ir.AccessLog{{Path: "/c"}}
	out, _, err := filterChain(fc, nil)
	require.NoError(t, err)
	requireValid(t, out)
	tp := unpack(t, out.GetFilters()[0].GetTypedConfig(), &tcpproxyv3.TcpProxy{})
	require.Len(t, tp.GetAccessLog(), 1)
	f := unpack(t, tp.GetAccessLog()[0].GetTypedConfig(), &filev3.FileAccessLog{})
	assert.Equal(t, defaultTCPAccessLogFormat, f.GetLogFormat().GetTextFormatSource().GetInlineString())

	// Without logs nothing changes.
	assert.Empty(t, translateHCM(t, *fixture().Listeners[1].FilterChains[0].HTTP).GetAccessLog())
}
