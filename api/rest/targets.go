package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/store"
)

// target is the resource a request's URL names.
type target struct {
	info       api.KindInfo
	mesh, name string
}

func (t target) key() store.Key {
	return store.Key{Kind: string(t.info.Kind), Mesh: t.mesh, Name: t.name}
}

func (t target) String() string {
	if t.info.Global {
		return string(t.info.Kind) + " " + t.name
	}
	return string(t.info.Kind) + " " + t.mesh + "/" + t.name
}

// kindOf resolves the `{plural}` path segment through the kind registry.
func kindOf(r *http.Request) (api.KindInfo, error) {
	plural := r.PathValue("plural")
	info, ok := wire.KindForPlural(plural)
	if !ok {
		return info, notFound("unknown resource type %q (known: %s)", plural, strings.Join(wire.KindNames(), ", "))
	}
	return info, nil
}

// globalTarget is `/{plural}/{name}`, which only global kinds (Mesh) have.
func globalTarget(r *http.Request) (target, error) {
	info, err := kindOf(r)
	if err != nil {
		return target{}, err
	}
	name := r.PathValue("name")
	if !info.Global {
		return target{}, notFound("%s belong to a mesh: use /meshes/{mesh}/%s/%s", wire.Plural(info.Kind), wire.Plural(info.Kind), name)
	}
	return target{info: info, name: name}, nil
}

// meshTarget is `/meshes/{mesh}/{plural}/{name}` (name empty for a collection).
func meshTarget(r *http.Request) (target, error) {
	info, err := kindOf(r)
	if err != nil {
		return target{}, err
	}
	if info.Global {
		return target{}, notFound("%s belong to no mesh: use /%s", wire.Plural(info.Kind), wire.Plural(info.Kind))
	}
	return target{info: info, mesh: r.PathValue("mesh"), name: r.PathValue("name")}, nil
}

// meshExists reports whether a mesh can hold resources. `default` always can: like Kuma,
// which creates it on start, model.Build supplies it when no Mesh resource names it.
func (h *handler) meshExists(ctx context.Context, mesh string) (bool, error) {
	if mesh == api.DefaultMesh {
		return true, nil
	}
	_, err := h.store.Get(ctx, store.Key{Kind: string(api.KindMesh), Name: mesh})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("looking up mesh %q: %w", mesh, err)
	}
}

// requireMesh is 404 for a URL under a mesh that does not exist.
func (h *handler) requireMesh(ctx context.Context, mesh string) error {
	ok, err := h.meshExists(ctx, mesh)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("mesh %q not found", mesh)
	}
	return nil
}
