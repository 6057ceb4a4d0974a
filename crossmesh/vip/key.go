// Package vip hands out virtual IPs for DNS names: unique across all meshes, persisted in the
// store so they survive restarts and are shared by every control plane on that store, and never
// given to another name while a DNS cache may still hold the old answer.
package vip

import (
	"net/netip"
	"sort"
)

// Key names one VIP. Mesh is empty for global (cross-mesh) names and set for `<service>.mesh`
// names, which exist once per mesh.
type Key struct {
	Mesh string `json:"mesh,omitempty"`
	Name string `json:"name"`
}

// VIPs are the addresses of one key. V6 is the zero Addr unless IPv6 is enabled.
type VIPs struct {
	V4 netip.Addr
	V6 netip.Addr
}

func (k Key) less(o Key) bool {
	if k.Mesh != o.Mesh {
		return k.Mesh < o.Mesh
	}
	return k.Name < o.Name
}

// SortKeys sorts keys by mesh (global first), then name: the allocation order.
func SortKeys(keys []Key) {
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
}

// String is `name` for a global key and `mesh/name` for a per-mesh one.
func (k Key) String() string {
	if k.Mesh == "" {
		return k.Name
	}
	return k.Mesh + "/" + k.Name
}
