package render

import (
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/translate"
)

// ZoneIngress produces a ZoneIngress's configuration and, with serve, the sealed snapshot the
// xDS server sends: the same stages as a dataplane's (IR, translation, snapshot checks).
func ZoneIngress(req build.ZoneIngressRequest, serve bool) (*Output, *cache.Snapshot, error) {
	p, err := build.ZoneIngress(req)
	if err != nil {
		return nil, nil, err
	}
	res, err := translate.Translate(p)
	if err != nil {
		return nil, nil, fmt.Errorf("translating ZoneIngress %s: %w", req.Name, err)
	}
	return seal(p, res, serve, "ZoneIngress "+req.Name)
}
