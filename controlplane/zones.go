package controlplane

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
)

// Modes `meshgate run --mode` accepts (DESIGN.md, "Deployment shapes").
const (
	ModeStandalone = "standalone"
	ModeGlobal     = "global"
	ModeZone       = "zone"
)

// Origins of records synced between global and zones (package kds writes them).
const (
	// OriginGlobal marks a zone's copy of a resource created on global: read-only there.
	OriginGlobal = "global"
	// OriginZonePrefix + zone marks global's copy of a zone's resource: read-only on global.
	OriginZonePrefix = "zone:"
)

// zoneName: a zone is a DNS label, since it prefixes names on global (`<zone>.<name>`).
var zoneName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// DefaultKDSAddress is where global serves zones.
const DefaultKDSAddress = ":5685"

// MultiZoneConfig configures --mode global and --mode zone.
type MultiZoneConfig struct {
	// KDSAddress is where global serves the zones' sync (TLS with the serving certificate).
	KDSAddress string
	// Zone is this zone's name (zone mode).
	Zone string
	// GlobalAddress is global's KDS address, grpcs://HOST:PORT (zone mode).
	GlobalAddress string
	// ZoneTokenFile holds the zone token global issued (`meshgate token zone`).
	ZoneTokenFile string
	// GlobalCAFile is the PEM CA that signs global's certificate (`meshgate ca control-plane`
	// against global).
	GlobalCAFile string
}

// zoneKinds are created in zones and reported to global; every other kind is created on
// global and synced down.
var zoneKinds = map[api.Kind]bool{api.KindDataplane: true, "ZoneIngress": true}

// mode checks the multi-zone flags and returns the mode.
func (cfg Config) mode() (string, error) {
	mz := cfg.MultiZone
	switch cfg.Mode {
	case "", ModeStandalone:
		if mz.Zone != "" || mz.GlobalAddress != "" {
			return "", errors.New("--zone and --global-address need --mode zone")
		}
		return ModeStandalone, nil
	case ModeGlobal:
		if mz.Zone != "" || mz.GlobalAddress != "" {
			return "", errors.New("--zone and --global-address are for --mode zone, not global")
		}
		if _, _, err := net.SplitHostPort(mz.kdsAddress()); err != nil {
			return "", fmt.Errorf("--kds-address %q: %w", mz.KDSAddress, err)
		}
		return ModeGlobal, nil
	case ModeZone:
		var missing []string
		for _, f := range []struct{ flag, value string }{{"--zone", mz.Zone}, {"--global-address", mz.GlobalAddress},
			{"--zone-token-file", mz.ZoneTokenFile}, {"--global-ca-file", mz.GlobalCAFile}} {
			if f.value == "" {
				missing = append(missing, f.flag)
			}
		}
		if len(missing) > 0 {
			return "", fmt.Errorf("--mode zone needs %s", strings.Join(missing, ", "))
		}
		if !zoneName.MatchString(mz.Zone) {
			return "", fmt.Errorf("--zone %q: a zone name is a DNS label (lower-case letters, digits, '-')", mz.Zone)
		}
		if _, err := mz.globalHostPort(); err != nil {
			return "", err
		}
		return ModeZone, nil
	}
	return "", fmt.Errorf("--mode %q: want %s, %s or %s", cfg.Mode, ModeStandalone, ModeGlobal, ModeZone)
}

func (mz MultiZoneConfig) kdsAddress() string {
	if mz.KDSAddress == "" {
		return DefaultKDSAddress
	}
	return mz.KDSAddress
}

// globalHostPort reads --global-address (grpcs://HOST:PORT, or HOST:PORT).
func (mz MultiZoneConfig) globalHostPort() (string, error) {
	addr := mz.GlobalAddress
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			return "", fmt.Errorf("--global-address %q: %w", addr, err)
		}
		if u.Scheme != "grpcs" {
			return "", fmt.Errorf("--global-address %q: the scheme is grpcs (the sync is always TLS)", addr)
		}
		addr = u.Host
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("--global-address %q: want grpcs://HOST:PORT: %w", mz.GlobalAddress, err)
	}
	return addr, nil
}

// writable says which resources this control plane's API (and resource files) may write: in
// Kubernetes mode none, since the cluster is the source and the next sync would undo the
// write; on a zone nothing created on global, on global nothing a zone owns (DESIGN.md: global
// resources are read-only in zones).
func writable(kubernetes bool, mode, zone string) func(key store.Key, cur *store.Record) error {
	if kubernetes {
		// A Kubernetes zone says first that global's resources are made on global.
		global := writable(false, mode, zone)
		return func(key store.Key, cur *store.Record) error {
			if global != nil {
				if err := global(key, cur); err != nil {
					return err
				}
			}
			return fmt.Errorf("%s %s: meshgate runs with --environment kubernetes, where resources come from the cluster: "+
				"change them with kubectl (kubectl apply -f ...)", key.Kind, displayKey(key))
		}
	}
	switch mode {
	case ModeZone:
		return func(key store.Key, cur *store.Record) error {
			if !zoneKinds[api.Kind(key.Kind)] || (cur != nil && cur.Origin == OriginGlobal) {
				return fmt.Errorf("%s %s is a global resource and this control plane is zone %q: "+
					"create, change and delete it on the global control plane; zones receive it from there", key.Kind, displayKey(key), zone)
			}
			return nil
		}
	case ModeGlobal:
		return func(key store.Key, cur *store.Record) error {
			if zoneKinds[api.Kind(key.Kind)] || (cur != nil && strings.HasPrefix(cur.Origin, OriginZonePrefix)) {
				return fmt.Errorf("%s %s belongs to a zone: create, change and delete it on the control plane of the zone "+
					"where it runs; global shows what zones report", key.Kind, displayKey(key))
			}
			return nil
		}
	}
	return nil
}

func displayKey(k store.Key) string {
	if k.Mesh == "" {
		return k.Name
	}
	return k.Mesh + "/" + k.Name
}
