package v1alpha1

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kuma's "old" source/destination policies (api/mesh/v1alpha1/{traffic_permission,fault_injection,
// traffic_log}.proto). Each selects connections by the tags of the calling dataplane (sources)
// and of the called service (destinations); a selector matches as MeshGateway selectors do.

// TrafficPermission allows traffic from the dataplanes its sources match to the services its
// destinations match. Once a mesh has mTLS, only permitted traffic passes.
type TrafficPermission struct {
	Meta `json:"-"`
	Spec TrafficPermissionSpec
}

type TrafficPermissionSpec struct {
	Sources      []Selector `json:"sources"`
	Destinations []Selector `json:"destinations"`
}

// SourceSelectors returns the `match` maps of the sources, in order.
func (p *TrafficPermission) SourceSelectors() []map[string]string {
	return selectorMaps(p.Spec.Sources)
}

// DestinationSelectors returns the `match` maps of the destinations, in order.
func (p *TrafficPermission) DestinationSelectors() []map[string]string {
	return selectorMaps(p.Spec.Destinations)
}

// FaultInjection injects delays, aborts and bandwidth limits into HTTP traffic between the
// dataplanes its sources match and the services its destinations match.
type FaultInjection struct {
	Meta `json:"-"`
	Spec FaultInjectionSpec
}

type FaultInjectionSpec struct {
	Sources      []Selector          `json:"sources"`
	Destinations []Selector          `json:"destinations"`
	Conf         *FaultInjectionConf `json:"conf"`
}

func (f *FaultInjection) SourceSelectors() []map[string]string {
	return selectorMaps(f.Spec.Sources)
}

func (f *FaultInjection) DestinationSelectors() []map[string]string {
	return selectorMaps(f.Spec.Destinations)
}

// FaultInjectionConf holds at least one fault; an unset fault is nil.
type FaultInjectionConf struct {
	Delay             *FaultDelay             `json:"delay,omitempty"`
	Abort             *FaultAbort             `json:"abort,omitempty"`
	ResponseBandwidth *FaultResponseBandwidth `json:"responseBandwidth,omitempty"`
}

// FaultDelay delays Percentage % of the requests by Value.
type FaultDelay struct {
	// Percentage is in [0, 100]; nil only in an invalid resource.
	Percentage *float64 `json:"percentage"`
	// Value is a duration as ParseDuration reads it (`5s`, `1.5s`, `100ms`); Kuma writes
	// google.protobuf.Duration in its JSON form, which is one of these.
	Value string `json:"value"`
}

// Duration parses Value.
func (d FaultDelay) Duration() (time.Duration, error) { return ParseDuration(d.Value) }

// FaultAbort answers Percentage % of the requests with HTTPStatus instead of forwarding them.
type FaultAbort struct {
	Percentage *float64 `json:"percentage"`
	HTTPStatus *uint32  `json:"httpStatus"`
}

// FaultResponseBandwidth limits the speed at which Percentage % of the responses are sent.
type FaultResponseBandwidth struct {
	Percentage *float64 `json:"percentage"`
	// Limit is a number and a unit, kbps, mbps or gbps in any case, optionally separated by one
	// space: `50kbps`, `1Mbps`, `2 gbps`.
	Limit string `json:"limit"`
}

var bandwidthLimit = regexp.MustCompile(`^([0-9]+) ?([kKmMgG])[bB][pP][sS]$`)

// LimitKbps parses Limit into kilobits per second (1 kbps = 1000 bit/s; 1 mbps = 1000 kbps;
// 1 gbps = 1000 mbps), as Kuma does. Kuma hands this number to Envoy's fault filter as
// `limit_kbps` unchanged, although Envoy reads that field as KiB/s (see LimitKiBps).
func (b FaultResponseBandwidth) LimitKbps() (uint64, error) {
	m := bandwidthLimit.FindStringSubmatch(b.Limit)
	if m == nil {
		return 0, errors.New("has to be in kbps/mbps/gbps units")
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil {
		return 0, errors.New("is too large")
	}
	factor := map[string]uint64{"k": 1, "m": 1000, "g": 1000000}[strings.ToLower(m[2])]
	if n > math.MaxUint64/factor {
		return 0, errors.New("is too large")
	}
	return n * factor, nil
}

// LimitKiBps is LimitKbps converted to what Envoy's `limit_kbps` really counts, KiB/s
// (1024 bytes per second): kbit/s × 1000 / 8 / 1024, rounded up so that no limit becomes
// stricter than written, and at least 1 (Envoy's minimum).
func (b FaultResponseBandwidth) LimitKiBps() (uint64, error) {
	kbps, err := b.LimitKbps()
	if err != nil {
		return 0, err
	}
	// bits/s = kbps*1000; KiB/s = bits/s / 8192 = kbps*125/1024. Split to avoid overflow.
	q, r := kbps/1024, kbps%1024
	kib := q*125 + (r*125+1023)/1024
	if kib == 0 {
		kib = 1
	}
	return kib, nil
}

// TrafficLog sends the access log of traffic between the dataplanes its sources match and the
// services its destinations match to a logging backend of the mesh.
type TrafficLog struct {
	Meta `json:"-"`
	Spec TrafficLogSpec
}

type TrafficLogSpec struct {
	Sources      []Selector      `json:"sources"`
	Destinations []Selector      `json:"destinations"`
	Conf         *TrafficLogConf `json:"conf,omitempty"`
}

// TrafficLogConf names the Mesh logging backend; empty means the mesh's defaultBackend.
type TrafficLogConf struct {
	Backend string `json:"backend,omitempty"`
}

func (l *TrafficLog) SourceSelectors() []map[string]string {
	return selectorMaps(l.Spec.Sources)
}

func (l *TrafficLog) DestinationSelectors() []map[string]string {
	return selectorMaps(l.Spec.Destinations)
}

// Backend is the logging backend the policy names; empty means the mesh's default backend
// (see Logging.Backend).
func (l *TrafficLog) Backend() string {
	if l.Spec.Conf == nil {
		return ""
	}
	return l.Spec.Conf.Backend
}

func selectorMaps(sels []Selector) []map[string]string {
	out := make([]map[string]string, len(sels))
	for i, s := range sels {
		out[i] = s.Match
	}
	return out
}
