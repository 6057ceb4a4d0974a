package kds

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
)

const (
	typePrefix = "meshgate.io/kds/"
	// kindZoneIngress is Kuma's ZoneIngress; a string so this package does not wait for the type.
	kindZoneIngress = "ZoneIngress"
	// OriginGlobal marks records a zone received from global.
	OriginGlobal = "global"
	// OriginZonePrefix + zone marks records global received from that zone.
	OriginZonePrefix = "zone:"
	fullPrefix       = "full/"
	// labelOrigin is Kuma's origin label on synced resources.
	labelOrigin = "kuma.io/origin"
)

// globalToZoneKinds are sent by global; Mesh first so a zone applying them in order sees the mesh.
var globalToZoneKinds = []string{
	string(api.KindMesh), string(api.KindMeshGateway), string(api.KindMeshGatewayRoute),
	string(api.KindTrafficPermission), string(api.KindFaultInjection), string(api.KindTrafficLog),
	string(api.KindCircuitBreaker), string(api.KindHealthCheck), string(api.KindRateLimit),
	string(api.KindRetry), string(api.KindTimeout), string(api.KindTrafficRoute),
	string(api.KindVirtualOutbound), string(api.KindExternalService), string(api.KindProxyTemplate),
	string(api.KindSecret), kindZoneIngress,
}

var zoneToGlobalKinds = []string{string(api.KindDataplane), kindZoneIngress}

func typeURL(kind string) string { return typePrefix + kind }

func kindOf(typeURL string, allowed []string) (string, error) {
	kind, ok := strings.CutPrefix(typeURL, typePrefix)
	if ok {
		for _, k := range allowed {
			if k == kind {
				return kind, nil
			}
		}
	}
	return "", fmt.Errorf("type %q is not synced in this direction", typeURL)
}

// resourceName is "<mesh>/<name>" (mesh empty for Mesh and ZoneIngress), unique across meshes.
func resourceName(k store.Key) string { return k.Mesh + "/" + k.Name }

func parseName(kind, name string) (store.Key, error) {
	mesh, n, ok := strings.Cut(name, "/")
	if !ok || n == "" {
		return store.Key{}, fmt.Errorf("resource name %q is not <mesh>/<name>", name)
	}
	return store.Key{Kind: kind, Mesh: mesh, Name: n}, nil
}

func specVersion(spec []byte) string {
	sum := sha256.Sum256(spec)
	return hex.EncodeToString(sum[:12])
}

// header is what every universal-form spec says about itself.
type header struct {
	Type string `json:"type"`
	Mesh string `json:"mesh"`
	Name string `json:"name"`
}

// checkSpec validates a received spec for key (as named by the sender): it must decode as that
// resource. Kinds the api package does not know (ZoneIngress while its type is added) are
// checked only as universal-form JSON of their kind.
func checkSpec(key store.Key, spec []byte) error {
	var h header
	if err := json.Unmarshal(spec, &h); err != nil {
		return fmt.Errorf("%s %s: not JSON: %w", key.Kind, resourceName(key), err)
	}
	if h.Type != key.Kind || h.Name != key.Name || (h.Mesh != key.Mesh && key.Mesh != "") {
		return fmt.Errorf("%s %s: the spec is %s %s/%s", key.Kind, resourceName(key), h.Type, h.Mesh, h.Name)
	}
	if _, known := api.LookupKind(api.Kind(key.Kind)); !known {
		return nil
	}
	objs, errs := api.Decode("kds", spec)
	if len(errs) > 0 {
		return fmt.Errorf("%s %s: %v", key.Kind, resourceName(key), errs)
	}
	if len(objs) != 1 {
		return fmt.Errorf("%s %s: %d objects in the spec", key.Kind, resourceName(key), len(objs))
	}
	return nil
}

// zoneSpec rewrites a zone's resource for global: name prefixed with the zone, labels added.
func zoneSpec(zone string, key store.Key, spec []byte) ([]byte, error) {
	name := zone + "." + key.Name
	labels := map[string]string{api.ZoneTag: zone, labelOrigin: "zone"}
	if _, known := api.LookupKind(api.Kind(key.Kind)); known {
		objs, errs := api.Decode("kds", spec)
		if len(errs) > 0 || len(objs) != 1 {
			return nil, fmt.Errorf("%s %s: %v", key.Kind, resourceName(key), errs)
		}
		m := objs[0].GetMeta()
		m.Name = name
		if m.Labels == nil {
			m.Labels = map[string]string{}
		}
		for k, v := range labels {
			m.Labels[k] = v
		}
		return api.Encode(objs[0])
	}
	var fields map[string]any
	if err := json.Unmarshal(spec, &fields); err != nil {
		return nil, fmt.Errorf("%s %s: %w", key.Kind, resourceName(key), err)
	}
	fields["name"] = name
	l, _ := fields["labels"].(map[string]any)
	if l == nil {
		l = map[string]any{}
	}
	for k, v := range labels {
		l[k] = v
	}
	fields["labels"] = l
	return json.Marshal(fields)
}

// ackFor answers a response: an ACK, or a NACK carrying the error (a NACKed response changed
// nothing).
func ackFor(resp *discovery.DeltaDiscoveryResponse, err error) *discovery.DeltaDiscoveryRequest {
	req := &discovery.DeltaDiscoveryRequest{TypeUrl: resp.GetTypeUrl(), ResponseNonce: resp.GetNonce()}
	if err != nil {
		req.ErrorDetail = &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: err.Error()}
	}
	return req
}
