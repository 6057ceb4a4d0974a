package servingtls

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
)

// fixedDefaultSANs follow the host name in the default SANs: what a client on the same host
// dials.
var fixedDefaultSANs = []string{"localhost", "127.0.0.1", "::1"}

// DefaultSANs are the SANs of a generated leaf when Options.SANs is empty: the host name (when
// it is a valid DNS name), localhost, 127.0.0.1 and ::1.
func DefaultSANs() []string { return defaultSANs(os.Hostname, slog.Default()) }

func defaultSANs(hostname func() (string, error), log *slog.Logger) []string {
	var out []string
	switch h, err := hostname(); {
	case err != nil:
		log.Warn("control-plane TLS: host name unknown; it is left out of the serving certificate's SANs", "error", err)
	case checkDNSName(strings.ToLower(h)) != nil:
		log.Warn("control-plane TLS: host name is not a DNS name; it is left out of the serving certificate's SANs", "hostname", h)
	default:
		out = append(out, strings.ToLower(h))
	}
	return append(out, fixedDefaultSANs...)
}

// sanSet is a parsed, deduplicated SAN list.
type sanSet struct {
	// all is every SAN in canonical form (lower-case names, IPs as net.IP.String), in the
	// given order.
	all []string
	dns []string
	ips []net.IP
}

// parseSANs checks that each entry is an IP address or a DNS name and sorts them into a leaf's
// two SAN kinds; duplicates are dropped.
func parseSANs(in []string) (sanSet, error) {
	var s sanSet
	seen := map[string]bool{}
	for _, raw := range in {
		v := raw
		ip := net.ParseIP(v)
		if ip != nil {
			v = ip.String()
		} else {
			v = strings.ToLower(v)
			if err := checkDNSName(v); err != nil {
				return sanSet{}, fmt.Errorf("SAN %q: not an IP address or DNS name: %w", raw, err)
			}
		}
		if seen[v] {
			continue
		}
		seen[v] = true
		s.all = append(s.all, v)
		if ip != nil {
			s.ips = append(s.ips, ip)
		} else {
			s.dns = append(s.dns, v)
		}
	}
	if len(s.all) == 0 {
		return sanSet{}, fmt.Errorf("no SANs")
	}
	return s, nil
}

// checkDNSName accepts a lower-case host name as RFC 1123 spells it, optionally with a leading
// "*." label (a wildcard certificate), which is what TLS clients match a server name against.
func checkDNSName(name string) error {
	rest := strings.TrimPrefix(name, "*.")
	switch {
	case rest == "":
		return fmt.Errorf("empty name")
	case len(name) > 253:
		return fmt.Errorf("longer than 253 characters")
	}
	for _, label := range strings.Split(rest, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("label %q must be 1 to 63 characters", label)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with '-'", label)
		}
		for _, c := range label {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return fmt.Errorf("label %q has %q; only letters, digits and '-' are allowed", label, c)
			}
		}
	}
	return nil
}
