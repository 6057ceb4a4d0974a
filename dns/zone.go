package dns

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// DefaultOrigin is the zone meshgate is authoritative for.
const DefaultOrigin = "mesh."

// DefaultTTL is the TTL of every answer, as in Kuma (docs/kuma-compatibility.md#dns-and-vips).
const DefaultTTL = 30 * time.Second

// Record is one name and its addresses. A record without addresses still
// makes the name exist, so it answers NODATA instead of NXDOMAIN.
type Record struct {
	Name string       // absolute or relative to nothing: "backend.mesh" and "backend.mesh." are the same
	A    []netip.Addr // IPv4; IPv4-mapped IPv6 addresses are unmapped
	AAAA []netip.Addr // IPv6, IPv4-mapped forms allowed (Kuma publishes ::ffff:a.b.c.d)
}

// ZoneConfig describes a zone. NewZone copies what it needs, so the caller may
// reuse the slices and maps afterwards.
type ZoneConfig struct {
	Origin string        // default "mesh."
	TTL    time.Duration // default 30s; whole seconds, at least 1s
	// Serial of the SOA; 0 means the Unix time of NewZone, which increases
	// across swaps as secondaries expect.
	Serial uint32
	// Global records resolve for every client, whatever its view.
	Global []Record
	// Views holds records visible only to clients whose ViewOf returns the key.
	Views map[string][]Record
	// Overrides holds, per view, records for names OUTSIDE the origin (e.g. an external
	// service's own host name). A client whose ViewOf returns the view gets them
	// authoritatively instead of a forwarded answer; a type without addresses answers NOERROR
	// with an empty answer and no SOA (the zone of the name is not ours). Clients that only
	// fall back to DefaultView never see overrides: they have no sidecar behind the VIP, so a
	// public name must keep resolving to its real address for them.
	Overrides map[string][]Record
}

// Zone is an immutable, validated zone with every answer precomputed.
// It is safe for concurrent use.
type Zone struct {
	origin string
	ttl    uint32
	soa    *mdns.SOA
	apex   *entry
	global map[string]*entry
	views  map[string]map[string]*entry
	// Empty non-terminals (e.g. "default.mesh." above "edge.default.mesh.")
	// exist per RFC 8020, so they answer NODATA rather than NXDOMAIN.
	globalENT map[string]*entry
	viewENT   map[string]map[string]*entry
	// overrides are names outside the origin answered for one view (ZoneConfig.Overrides).
	overrides map[string]map[string]*entry
}

// Origin returns the zone's origin, lower case and absolute.
func (z *Zone) Origin() string { return z.origin }

// NewZone validates cfg and precomputes every answer. Names must be below the
// origin (override names outside it); names are case-insensitive; duplicate records for a name are merged
// and addresses deduplicated and sorted. A name that is both global and in a
// view is an error, because which one wins would depend on the client.
func NewZone(cfg ZoneConfig) (*Zone, error) {
	origin := strings.ToLower(mdns.Fqdn(cfg.Origin))
	if cfg.Origin == "" {
		origin = DefaultOrigin
	}
	if _, ok := mdns.IsDomainName(origin); !ok || origin == "." {
		return nil, fmt.Errorf("dns zone: origin %q is not a domain name", cfg.Origin)
	}
	ttl := cfg.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < time.Second || ttl%time.Second != 0 || ttl > 0x7fffffff*time.Second {
		return nil, fmt.Errorf("dns zone: ttl %s must be a whole number of seconds between 1s and 2^31-1s", ttl)
	}
	serial := cfg.Serial
	if serial == 0 {
		serial = uint32(time.Now().Unix())
	}
	z := &Zone{
		origin:    origin,
		ttl:       uint32(ttl / time.Second),
		views:     make(map[string]map[string]*entry, len(cfg.Views)),
		viewENT:   make(map[string]map[string]*entry, len(cfg.Views)),
		globalENT: map[string]*entry{},
		overrides: make(map[string]map[string]*entry, len(cfg.Overrides)),
	}
	z.soa = &mdns.SOA{
		Hdr:     mdns.RR_Header{Name: origin, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: z.ttl},
		Ns:      "ns." + origin,
		Mbox:    "hostmaster." + origin,
		Serial:  serial,
		Refresh: 3600, Retry: 600, Expire: 86400,
		// Negative answers are cached for as long as positive ones, so a new
		// name becomes visible within one TTL.
		Minttl: z.ttl,
	}

	global, err := z.merge("global", cfg.Global, z.canonicalName)
	if err != nil {
		return nil, err
	}
	var errs []error
	viewRecs := make(map[string]map[string]*Record, len(cfg.Views))
	for _, view := range sortedKeys(cfg.Views) {
		recs, err := z.merge(fmt.Sprintf("view %q", view), cfg.Views[view], z.canonicalName)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, name := range sortedKeys(recs) {
			if _, dup := global[name]; dup {
				errs = append(errs, fmt.Errorf("dns zone: view %q: name %s is also global", view, name))
			}
		}
		viewRecs[view] = recs
	}
	overrideRecs := make(map[string]map[string]*Record, len(cfg.Overrides))
	for _, view := range sortedKeys(cfg.Overrides) {
		recs, err := z.merge(fmt.Sprintf("view %q override", view), cfg.Overrides[view], z.canonicalOverride)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		overrideRecs[view] = recs
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	if z.apex, err = z.buildApex(); err != nil {
		return nil, err
	}
	if z.global, err = z.buildEntries(global, true); err != nil {
		return nil, err
	}
	if err := z.buildENTs(z.globalENT, global); err != nil {
		return nil, err
	}
	for view, recs := range viewRecs {
		if z.views[view], err = z.buildEntries(recs, true); err != nil {
			return nil, err
		}
		z.viewENT[view] = map[string]*entry{}
		if err := z.buildENTs(z.viewENT[view], recs); err != nil {
			return nil, err
		}
	}
	for view, recs := range overrideRecs {
		// Not our zone: negative answers carry no SOA of the origin.
		if z.overrides[view], err = z.buildEntries(recs, false); err != nil {
			return nil, err
		}
	}
	return z, nil
}

// merge validates records and merges those with the same name.
func (z *Zone) merge(where string, recs []Record, canonical func(string) (string, error)) (map[string]*Record, error) {
	out := make(map[string]*Record, len(recs))
	var errs []error
	for i, r := range recs {
		name, err := canonical(r.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("dns zone: %s[%d]: %w", where, i, err))
			continue
		}
		m := out[name]
		if m == nil {
			m = &Record{Name: name}
			out[name] = m
		}
		for _, a := range r.A {
			a = a.Unmap()
			if !a.Is4() {
				errs = append(errs, fmt.Errorf("dns zone: %s[%d] %s: A address %v is not IPv4", where, i, name, a))
				continue
			}
			m.A = append(m.A, a)
		}
		for _, a := range r.AAAA {
			if !a.Is6() {
				errs = append(errs, fmt.Errorf("dns zone: %s[%d] %s: AAAA address %v is not IPv6", where, i, name, a))
				continue
			}
			m.AAAA = append(m.AAAA, a.WithZone(""))
		}
	}
	for _, m := range out {
		m.A = sortDedup(m.A)
		m.AAAA = sortDedup(m.AAAA)
	}
	return out, errors.Join(errs...)
}

// canonicalName lower-cases a name, makes it absolute and checks it is a
// plain host-like name strictly below the origin. Escapes are refused so that
// the packed wire name and the presentation name have the same length, which
// the hot path relies on to echo the client's spelling.
func (z *Zone) canonicalName(name string) (string, error) {
	n, err := hostName(name)
	if err != nil {
		return "", err
	}
	if n == z.origin || !mdns.IsSubDomain(z.origin, n) {
		return "", fmt.Errorf("name %q is not below the origin %s", name, z.origin)
	}
	return n, nil
}

// canonicalOverride is canonicalName for override names, which must be outside the origin:
// inside it, views already say what exists.
func (z *Zone) canonicalOverride(name string) (string, error) {
	n, err := hostName(name)
	if err != nil {
		return "", err
	}
	if mdns.IsSubDomain(z.origin, n) {
		return "", fmt.Errorf("override name %q is not outside the origin %s", name, z.origin)
	}
	return n, nil
}

// hostName lower-cases a name, makes it absolute and checks it is a plain host-like name.
func hostName(name string) (string, error) {
	n := strings.ToLower(mdns.Fqdn(name))
	if name == "" || n == "." || strings.ContainsAny(n, "\\ ") {
		return "", fmt.Errorf("name %q is not a valid domain name", name)
	}
	if _, ok := mdns.IsDomainName(n); !ok || strings.HasPrefix(n, ".") || strings.Contains(n, "..") {
		return "", fmt.Errorf("name %q is not a valid domain name", name)
	}
	return n, nil
}

// buildENTs records every ancestor between each name and the origin that is
// not itself a name.
func (z *Zone) buildENTs(dst map[string]*entry, recs map[string]*Record) error {
	for name := range recs {
		for p := parent(name); p != z.origin && p != ""; p = parent(p) {
			if _, isName := recs[p]; isName {
				continue
			}
			if _, done := dst[p]; done {
				continue
			}
			e, err := z.buildEntry(&Record{Name: p}, true)
			if err != nil {
				return err
			}
			dst[p] = e
		}
	}
	return nil
}

func parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

func sortDedup(a []netip.Addr) []netip.Addr {
	slices.SortFunc(a, netip.Addr.Compare)
	return slices.Compact(a)
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
