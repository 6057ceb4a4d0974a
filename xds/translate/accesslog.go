package translate

import (
	"strings"

	accesslogv3 "github.com/envoyproxy/go-control-plane/envoy/config/accesslog/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	filev3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	fluentdv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/fluentd/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/meshgate/meshgate/xds/ir"
)

// fluentdAccessLog is Envoy's Fluentd access logger; wellknown does not define it.
const fluentdAccessLog = "envoy.access_loggers.fluentd"

// defaultHTTPAccessLogFormat is Kuma's default HTTP access log line with its %KUMA_*%
// placeholders, which Envoy does not know and would reject, replaced by Envoy's own operators:
// the source service becomes the caller's verified URI SAN (`spiffe://<mesh>/<service>`, which
// also names the mesh, so Kuma's separate %KUMA_MESH% field is left out), the destination
// service the upstream cluster, and the source address the downstream remote address.
const defaultHTTPAccessLogFormat = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ` +
	`%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% ` +
	`"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-B3-TRACEID?X-DATADOG-TRACEID)%" "%REQ(X-REQUEST-ID)%" ` +
	`"%REQ(:AUTHORITY)%" "%DOWNSTREAM_PEER_URI_SAN%" "%UPSTREAM_CLUSTER%" "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" ` +
	`"%UPSTREAM_HOST%"` + "\n"

// defaultTCPAccessLogFormat is Kuma's default TCP access log line with the same replacements.
const defaultTCPAccessLogFormat = `[%START_TIME%] %RESPONSE_FLAGS% ` +
	`%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%(%DOWNSTREAM_PEER_URI_SAN%)->%UPSTREAM_HOST%(%UPSTREAM_CLUSTER%) ` +
	`took %DURATION%ms, sent %BYTES_SENT% bytes, received: %BYTES_RECEIVED% bytes` + "\n"

// accessLogs translates logs in order; an empty Format takes defaultFormat. nil for no logs,
// so a chain without logs is unchanged.
func accessLogs(logs []ir.AccessLog, defaultFormat string) ([]*accesslogv3.AccessLog, error) {
	var out []*accesslogv3.AccessLog
	for _, l := range logs {
		format := l.Format
		if format == "" {
			format = defaultFormat
		}
		var name string
		var cfg proto.Message
		if l.TCP != nil {
			name, cfg = fluentdAccessLog, fluentdLog(l, format)
		} else {
			name, cfg = wellknown.FileAccessLog, fileLog(l.Path, format)
		}
		a, err := toAny(cfg)
		if err != nil {
			return nil, err
		}
		out = append(out, &accesslogv3.AccessLog{Name: name, ConfigType: &accesslogv3.AccessLog_TypedConfig{TypedConfig: a}})
	}
	return out, nil
}

// fileLog writes one text line per request or connection to path.
func fileLog(path, format string) *filev3.FileAccessLog {
	return &filev3.FileAccessLog{
		Path: path,
		AccessLogFormat: &filev3.FileAccessLog_LogFormat{LogFormat: &corev3.SubstitutionFormatString{
			Format: &corev3.SubstitutionFormatString_TextFormatSource{
				TextFormatSource: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: format}},
			},
		}},
	}
}

// fluentdLog streams records `{message: <format>}` tagged with the backend's name to the log
// sink cluster. A record is one message, not a line, so one trailing newline is dropped.
func fluentdLog(l ir.AccessLog, format string) *fluentdv3.FluentdAccessLogConfig {
	return &fluentdv3.FluentdAccessLogConfig{
		Cluster:    l.TCP.Cluster,
		Tag:        l.Backend,
		StatPrefix: l.Backend,
		Record: &structpb.Struct{Fields: map[string]*structpb.Value{
			"message": structpb.NewStringValue(strings.TrimSuffix(format, "\n")),
		}},
	}
}
