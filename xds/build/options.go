package build

import (
	"os"
	"time"

	"github.com/meshgate/meshgate/xds/ir"
)

// Options are the choices a control-plane operator makes for every gateway.
type Options struct {
	// HTTP holds the connection-manager settings of every HTTP and HTTPS listener. The defaults
	// are Envoy's edge best practices, not Kuma's much tighter 5 s stream idle / 500 ms header
	// timeouts, which cut off long polls and slow clients.
	HTTP ir.HTTPOptions
	// ReadFile loads `file:` certificate data sources.
	ReadFile func(string) ([]byte, error)
	// Zone is the local zone; "" (standalone) uses no other zone's ZoneIngress.
	Zone string
}

// DefaultOptions returns settings that work for a gateway at the edge.
func DefaultOptions() Options {
	return Options{
		HTTP: ir.HTTPOptions{
			ServerName:            "meshgate",
			RequestHeadersTimeout: 10 * time.Second,
			StreamIdleTimeout:     300 * time.Second,
			IdleTimeout:           3600 * time.Second,
			MaxConcurrentStreams:  100,
			InitialStreamWindow:   64 * 1024,
			InitialConnWindow:     1024 * 1024,
			InternalAddresses:     []string{"127.0.0.1/32", "::1/128"},
		},
		ReadFile: os.ReadFile,
	}
}
