// Package render is the one path from resource files to the exact Envoy resources a dataplane
// receives: load → model → IR → Envoy → snapshot. The CLI's render and explain and the xDS
// server all go through Dataplane, so what a user previews is what Envoy gets.
package render

import (
	"fmt"
	"strings"

	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/envoyres"
	"github.com/meshgate/meshgate/xds/ir"
	"github.com/meshgate/meshgate/xds/modify"
	"github.com/meshgate/meshgate/xds/snapshot"
	"github.com/meshgate/meshgate/xds/translate"
	"github.com/meshgate/meshgate/xds/translate/proxyless"
)

// Output is everything produced for one dataplane.
type Output struct {
	Proxy     *ir.Proxy
	Resources *envoyres.Resources
	Snapshot  *cache.Snapshot
}

// Load reads resource files and directories into a model. Any error in any file fails the
// load: a configuration is used whole or not at all.
func Load(paths []string) (*model.Model, error) {
	objs, errs := api.LoadFiles(paths)
	m, merrs := model.Build(objs)
	errs = append(errs, merrs...)
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return m, nil
}

// Dataplane produces the configuration of dataplane `mesh/name` without a CA: what `meshgate
// render` shows offline.
func Dataplane(m *model.Model, mesh, name string, opts build.Options) (*Output, error) {
	return Render(build.Request{Model: m, Mesh: mesh, Name: name, Options: opts})
}

// Render produces the configuration one dataplane is served.
func Render(req build.Request) (*Output, error) {
	out, _, err := produce(req, false)
	return out, err
}

// Serve is Render for the xDS server: it also returns the snapshot in the sealed form the
// server sends (snapshot.Served), made from the same marshalling.
func Serve(req build.Request) (*Output, *cache.Snapshot, error) {
	return produce(req, true)
}

func produce(req build.Request, serve bool) (*Output, *cache.Snapshot, error) {
	mesh, name := req.Mesh, req.Name
	p, err := build.Proxy(req)
	if err != nil {
		return nil, nil, err
	}
	translator := translate.Translate
	if p.Proxyless {
		translator = proxyless.Translate // a gRPC application, not an Envoy
	}
	res, err := translator(p)
	if err != nil {
		return nil, nil, fmt.Errorf("translating %s/%s: %w", mesh, name, err)
	}
	if res, err = applyProxyTemplate(req, p, res); err != nil {
		return nil, nil, err
	}
	return seal(p, res, serve, mesh+"/"+name)
}

// seal makes the snapshot of res and, with serve, the sealed form the server sends.
func seal(p *ir.Proxy, res *envoyres.Resources, serve bool, what string) (*Output, *cache.Snapshot, error) {
	var snap, served *cache.Snapshot
	var err error
	if serve {
		snap, served, err = snapshot.Both(res)
	} else {
		snap, err = snapshot.New(res)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot for %s: %w", what, err)
	}
	return &Output{Proxy: p, Resources: res, Snapshot: snap}, served, nil
}

// applyProxyTemplate applies the dataplane's ProxyTemplate, if any, to its Envoy resources, last
// of all, and records the template's problems (rejected or ineffective modifications) as
// diagnostics. Without a ProxyTemplate res is returned as it is.
func applyProxyTemplate(req build.Request, p *ir.Proxy, res *envoyres.Resources) (*envoyres.Resources, error) {
	ms := req.Model.Mesh(req.Mesh)
	if ms == nil {
		return res, nil
	}
	pt := modify.Select(ms, ms.Dataplane(req.Name))
	if pt == nil {
		return res, nil
	}
	out, problems, err := modify.Apply(res, pt)
	if err != nil {
		return nil, fmt.Errorf("applying %s to %s/%s: %w", pt.DisplayName(), req.Mesh, req.Name, err)
	}
	p.Diagnostics = append(p.Diagnostics, problems...)
	return out, nil
}

// ParseDataplane splits `MESH/NAME`.
func ParseDataplane(s string) (mesh, name string, err error) {
	mesh, name, ok := strings.Cut(s, "/")
	if !ok || mesh == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("dataplane %q: want MESH/NAME", s)
	}
	return mesh, name, nil
}
