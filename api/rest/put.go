package rest

import (
	"fmt"
	"net/http"

	"gopkg.in/yaml.v3"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

// bodyFile names the request body in decoder messages (`already defined at request:3`).
const bodyFile = "request"

func (h *handler) putGlobal(w http.ResponseWriter, r *http.Request) error {
	t, err := globalTarget(r)
	if err != nil {
		return err
	}
	return h.put(w, r, t)
}

func (h *handler) putInMesh(w http.ResponseWriter, r *http.Request) error {
	t, err := meshTarget(r)
	if err != nil {
		return err
	}
	return h.put(w, r, t)
}

// put creates or replaces one resource: 201 when created, 200 when updated (or unchanged).
func (h *handler) put(w http.ResponseWriter, r *http.Request, t target) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	obj, err := decodeFor(t, body)
	if err != nil {
		return err
	}
	pre := parsePreconditions(r)
	changes, err := h.write(r.Context(), []api.Object{obj}, func(c *change) error { return pre.check(t, c.cur) })
	if err != nil {
		return err
	}
	status := http.StatusOK
	if changes[0].status == wire.StatusCreated {
		status = http.StatusCreated
	}
	return writeResource(w, r, status, changes[0].rec)
}

// decodeFor decodes and validates a PUT body, which must hold exactly the resource the URL
// names. A wrong `type` is reported before decoding: the spec of another kind would otherwise
// come back as a screenful of unknown fields.
func decodeFor(t target, body []byte) (api.Object, error) {
	var head struct {
		Type string `yaml:"type"`
	}
	if yaml.Unmarshal(body, &head) == nil && head.Type != "" && head.Type != string(t.info.Kind) {
		return nil, fieldInvalid("type", "%q does not match the URL, which names a %s", head.Type, t.info.Kind)
	}
	objs, errs := api.Decode(bodyFile, body)
	if len(errs) > 0 {
		return nil, invalid(explainRedacted(body, errs))
	}
	switch len(objs) {
	case 0:
		return nil, badRequest("the body holds no resource")
	case 1:
	default:
		return nil, badRequest("the body holds %d resources; PUT takes one (POST %s takes several)", len(objs), wire.ApplyPath)
	}
	obj := objs[0]
	m := obj.GetMeta()
	var mismatch api.ErrorList
	agree := func(field, got, want string) {
		if got != want {
			mismatch = append(mismatch, api.FieldError{Field: field, Resource: m.DisplayName(),
				Message: fmt.Sprintf("%q does not match the URL's %q", got, want)})
		}
	}
	agree("type", string(m.Kind), string(t.info.Kind))
	if !t.info.Global {
		agree("mesh", m.Mesh, t.mesh)
	}
	agree("name", m.Name, t.name)
	if len(mismatch) > 0 {
		return nil, invalid(mismatch)
	}
	return obj, nil
}
