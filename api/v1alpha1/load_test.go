package v1alpha1

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestLoadFilesWalksDirectories(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.yaml"), "type: Mesh\nname: b\n")
	writeFile(t, filepath.Join(dir, "a", "z.yml"), "type: Mesh\nname: az\n")
	writeFile(t, filepath.Join(dir, "a", "y.json"), `{"type": "Mesh", "name": "ay"}`)
	writeFile(t, filepath.Join(dir, "a", "notes.txt"), "not: a resource\n")
	writeFile(t, filepath.Join(dir, ".git", "config.yaml"), "not: a resource\n")
	writeFile(t, filepath.Join(dir, "c.YAML"), "type: Mesh\nname: c\n")
	extra := filepath.Join(t.TempDir(), "extra.conf")
	writeFile(t, extra, "type: Mesh\nname: extra\n")

	objs, errs := LoadFiles([]string{dir, extra, filepath.Join(dir, "b.yaml")})
	require.Empty(t, errStrings(errs))
	var names, files []string
	for _, o := range objs {
		names = append(names, o.GetMeta().Name)
		files = append(files, o.GetMeta().Source.File)
	}
	assert.Equal(t, []string{"ay", "az", "b", "c", "extra"}, names, "sorted by path; explicit files whatever their extension; each file once")
	assert.Equal(t, filepath.Join(dir, "a", "y.json"), files[0], "files are named as the caller's path leads to them")
}

func TestLoadFilesReportsEveryFileAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	writeFile(t, a, "type: Mesh\nname: m\n---\ntype: Mesh\nname: bad\nmtls: {enabledBackend: x}\n")
	writeFile(t, b, "type: Mesh\nname: m\n---\ntype: Mesh\nname: n\n  oops: 1\n")
	missing := filepath.Join(dir, "missing.yaml")

	objs, errs := LoadFiles([]string{b, a, missing})
	require.Len(t, objs, 1)
	assert.Equal(t, b, objs[0].GetMeta().Source.File, "the first definition wins")
	assert.Equal(t, []string{
		a + ":1: Mesh m: already defined at " + b + ":1",
		a + ":6: Mesh bad: mtls.enabledBackend: has to be set to one of the backends in the mesh",
		b + ":6: invalid YAML: mapping values are not allowed in this context",
		missing + ": cannot read: no such file or directory",
	}, errStrings(errs))
}

func TestDecodeRejectsDuplicatesWithinAFile(t *testing.T) {
	objs, errs := Decode("gw.yaml", []byte("type: Secret\nname: s\ndata: aGk=\n---\ntype: Secret\nmesh: default\nname: s\ndata: aGk=\n---\ntype: Secret\nmesh: other\nname: s\ndata: aGk=\n"))
	assert.Len(t, objs, 2)
	assert.Equal(t, []string{"gw.yaml:5: Secret default/s: already defined at gw.yaml:1"}, errStrings(errs))
}
