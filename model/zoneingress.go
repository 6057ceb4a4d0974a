package model

import api "github.com/meshgate/meshgate/api/v1alpha1"

// ZoneIngresses returns every ZoneIngress, sorted by name: the local zone's and, on a zone
// control plane, those of other zones received from global.
func (m *Model) ZoneIngresses() []*api.ZoneIngress { return m.ingresses }
