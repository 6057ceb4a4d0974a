package dns

import (
	"fmt"
	"net"

	mdns "github.com/miekg/dns"
)

// DefaultResolvConf is where UpstreamsFromResolvConf looks when given "".
const DefaultResolvConf = "/etc/resolv.conf"

// UpstreamsFromResolvConf returns the nameservers of a resolv.conf file as
// host:port strings, in file order. A file without nameservers is an error,
// because silently turning forwarding off would break every external name.
func UpstreamsFromResolvConf(path string) ([]string, error) {
	if path == "" {
		path = DefaultResolvConf
	}
	cfg, err := mdns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading upstream resolvers: %w", err)
	}
	if len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("reading upstream resolvers: %s has no nameserver", path)
	}
	out := make([]string, 0, len(cfg.Servers))
	for _, s := range cfg.Servers {
		out = append(out, net.JoinHostPort(s, cfg.Port))
	}
	return out, nil
}
