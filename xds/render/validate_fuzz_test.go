package render_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/build"
	"github.com/meshgate/meshgate/xds/render"
)

// FuzzValidate runs what `meshgate validate` runs (decode, model, cross-mesh check, then every
// dataplane rendered to Envoy resources and validated) on arbitrary input. Whatever the
// resources say, nothing panics, and rendering never fails: a bad resource must become a
// validation error or a diagnostic on that resource, while an error from CheckAll means
// meshgate itself produced configuration Envoy would reject.
//
// `file:` data sources read nothing here: the fuzzer must not read /dev/zero.
func FuzzValidate(f *testing.F) {
	files, err := filepath.Glob("../testdata/golden/*/input.yaml")
	require.NoError(f, err)
	require.NotEmpty(f, files)
	examples, err := filepath.Glob("../../examples/*/*.yaml")
	require.NoError(f, err)
	for _, file := range append(files, examples...) {
		data, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(data)
	}
	opts := build.DefaultOptions()
	opts.ReadFile = func(string) ([]byte, error) { return nil, errors.New("no files while fuzzing") }

	f.Fuzz(func(t *testing.T, data []byte) {
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
