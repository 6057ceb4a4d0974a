package render_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/render"
)

// FuzzValidate runs what `meshgate validate` runs (decode, model, cross-mesh check, then every
// dataplane rendered to Envoy resources and validated) on a working configuration with one
// fuzzed document added: the golden inputs are the bases, so the fuzzer spends its time on
// what a new route, policy, gateway or dataplane does to a configuration that renders, rather
// than on finding its way to one. Whatever the documents say, nothing panics, and rendering
// never fails: a bad resource must become a validation error or a diagnostic on that resource,
// while an error from CheckAll means meshgate itself produced configuration Envoy would reject.
//
// `file:` data sources read nothing here: the fuzzer must not read /dev/zero.
func FuzzValidate(f *testing.F) {
	bases, extras := validateSeeds(f)
	// Each base renders with an extra document (there are more documents than bases), so a base
	// alone needs no seed of its own: the golden tests render those.
	for j, doc := range extras {
		f.Add(uint8(j%len(bases)), doc)
	}
	opts := build.DefaultOptions()
	opts.ReadFile = func(string) ([]byte, error) { return nil, errors.New("no files while fuzzing") }

	f.Fuzz(func(t *testing.T, base uint8, doc []byte) {
		data := append(append(append([]byte{}, bases[int(base)%len(bases)]...), "\n---\n"...), doc...)
		objs, errs := api.Decode("fuzz.yaml", data)
		m, merrs := model.Build(objs)
		if len(errs)+len(merrs) > 0 {
			return // validate stops here, as the control plane refuses the whole set
		}
		_ = render.CrossMeshErrors(m)
		_ = render.Notes(m)
		if _, err := render.CheckAll(m, opts); err != nil {
			t.Fatalf("rendering valid resources failed: %v", err)
		}
	})
}

var firstName = regexp.MustCompile(`(?m)^name: .*$`)

// validateSeeds returns the golden inputs that load as they are (the bases, in path order) and
// every document of every golden input and example but Meshes, renamed so that it adds a
// resource to a base rather than clashing with one of the same name.
func validateSeeds(f *testing.F) (bases, extras [][]byte) {
	files, err := filepath.Glob("../testdata/golden/*/input.yaml")
	require.NoError(f, err)
	examples, err := filepath.Glob("../../examples/*/*.yaml")
	require.NoError(f, err)
	seen := map[string]bool{}
	for _, file := range append(files, examples...) {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		if objs, errs := api.Decode(file, data); len(errs) == 0 && filepath.Base(file) == "input.yaml" {
			if _, merrs := model.Build(objs); len(merrs) == 0 {
				bases = append(bases, data)
			}
		}
		for _, doc := range bytes.Split(data, []byte("\n---\n")) {
			doc = firstName.ReplaceAll(bytes.TrimSpace(doc), []byte("name: fuzz-extra"))
			if bytes.Contains(doc, []byte("type: Mesh\n")) || seen[string(doc)] {
				continue
			}
			seen[string(doc)] = true
			extras = append(extras, doc)
		}
	}
	require.NotEmpty(f, bases)
	return bases, extras
}
