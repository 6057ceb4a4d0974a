package v1alpha1

// Logging is a mesh's access-log backends (Kuma's Mesh.logging); TrafficLog policies pick one
// by name, or the default.
type Logging struct {
	// DefaultBackend is used by TrafficLogs that name no backend; empty means none is.
	DefaultBackend string           `json:"defaultBackend,omitempty"`
	Backends       []LoggingBackend `json:"backends,omitempty"`
}

// Logging backend types, as in Kuma.
const (
	LoggingBackendFile = "file"
	LoggingBackendTCP  = "tcp"
)

// LoggingBackend is one place access logs go: a file (conf.path) or a TCP sink (conf.address,
// `host:port`), one line per request or connection in Format.
type LoggingBackend struct {
	Name string `json:"name"`
	// Format is an Envoy access-log format string; empty means Kuma's default format.
	Format string `json:"format,omitempty"`
	Type   string `json:"type"`
	// Conf is `{path: ...}` for file and `{address: ...}` for tcp; FilePath and TCPAddress
	// read it.
	Conf map[string]any `json:"conf,omitempty"`
}

// FilePath is conf.path of a file backend; empty when unset or not a string.
func (b LoggingBackend) FilePath() string { return confString(b.Conf, "path") }

// TCPAddress is conf.address (`host:port`) of a tcp backend; empty when unset or not a string.
func (b LoggingBackend) TCPAddress() string { return confString(b.Conf, "address") }

// Backend resolves the backend a TrafficLog names: the backend called name, or for an empty
// name the default backend. It returns nil when there is no such backend (or no default), and
// is safe on a nil Logging.
func (l *Logging) Backend(name string) *LoggingBackend {
	if l == nil {
		return nil
	}
	if name == "" {
		name = l.DefaultBackend
		if name == "" {
			return nil
		}
	}
	for i := range l.Backends {
		if l.Backends[i].Name == name {
			return &l.Backends[i]
		}
	}
	return nil
}

func confString(conf map[string]any, key string) string {
	s, _ := conf[key].(string)
	return s
}
