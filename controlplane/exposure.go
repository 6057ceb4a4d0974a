package controlplane

import (
	"fmt"
	"net"
)

// Admin tokens that guard an API reachable from the network must resist guessing: at least
// this many characters, of at least minTokenDistinct different ones (so "aaaa…" and "1234…"
// repeated are refused). `openssl rand -hex 32` gives 64.
const (
	minTokenLength   = 32
	minTokenDistinct = 10
)

// isLoopback reports whether a listen address only accepts connections from this machine.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// exposure is what the configuration serves beyond this machine, decided once at start.
type exposure struct {
	// apiTLS: serve the HTTPS API (its address is not empty, and it is loopback or guarded by
	// an admin token).
	apiTLS bool
	// metricsToken: /metrics requires the admin token (diagnostics beyond loopback).
	metricsToken bool
}

// checkExposure refuses configurations that would put the API or metrics on the network
// unprotected. The plain-HTTP API is loopback only; the HTTPS API beyond loopback needs a strong
// admin token; without one it is not started, and the reason is returned as a notice.
func checkExposure(cfg Config) (exposure, string, error) {
	var ex exposure
	local, err := isLoopback(cfg.APIAddress)
	if err != nil {
		return ex, "", fmt.Errorf("--api-address %q: %w", cfg.APIAddress, err)
	}
	if !local {
		return ex, "", fmt.Errorf("--api-address %q is not loopback: the plain-HTTP API serves only this machine, "+
			"so the admin token never crosses a network in clear; serve other machines with --api-tls-address (HTTPS) and --admin-token", cfg.APIAddress)
	}
	notice := ""
	if cfg.APITLSAddress != "" {
		local, err := isLoopback(cfg.APITLSAddress)
		if err != nil {
			return ex, "", fmt.Errorf("--api-tls-address %q: %w", cfg.APITLSAddress, err)
		}
		switch {
		case local:
			ex.apiTLS = true
		case cfg.AdminToken == "":
			notice = fmt.Sprintf("HTTPS API on %s not started: it serves other machines, so it needs an admin token "+
				"(--admin-token or MESHGATE_ADMIN_TOKEN; e.g. `openssl rand -hex 32`)", cfg.APITLSAddress)
		default:
			if err := checkTokenStrength(cfg.AdminToken); err != nil {
				return ex, "", fmt.Errorf("--admin-token: %w (the HTTPS API on %s serves other machines)", err, cfg.APITLSAddress)
			}
			ex.apiTLS = true
		}
	}
	local, err = isLoopback(cfg.DiagAddress)
	if err != nil {
		return ex, "", fmt.Errorf("--diag-address %q: %w", cfg.DiagAddress, err)
	}
	if !local && !cfg.PublicMetrics {
		if cfg.AdminToken == "" {
			return ex, "", fmt.Errorf("--diag-address %q is not loopback: /metrics would be readable by anyone; "+
				"set --admin-token (scrapers then send it as a bearer token) or --public-metrics", cfg.DiagAddress)
		}
		if err := checkTokenStrength(cfg.AdminToken); err != nil {
			return ex, "", fmt.Errorf("--admin-token: %w (it guards /metrics on %s)", err, cfg.DiagAddress)
		}
		ex.metricsToken = true
	}
	return ex, notice, nil
}

func checkTokenStrength(token string) error {
	distinct := map[rune]bool{}
	for _, r := range token {
		distinct[r] = true
	}
	if len(token) < minTokenLength || len(distinct) < minTokenDistinct {
		return fmt.Errorf("too weak: want at least %d characters with at least %d different ones (have %d, %d different); "+
			"generate one with `openssl rand -hex 32`", minTokenLength, minTokenDistinct, len(token), len(distinct))
	}
	return nil
}
