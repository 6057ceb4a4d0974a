package ca_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
)

// stepCAConf is a mesh backend conf pointing at the test step-ca from .ci/stepca.sh.
func stepCAConf(t *testing.T) map[string]any {
	t.Helper()
	vars := []string{"MESHGATE_TEST_STEPCA_URL", "MESHGATE_TEST_STEPCA_FINGERPRINT", "MESHGATE_TEST_STEPCA_PROVISIONER", "MESHGATE_TEST_STEPCA_PASSWORD_FILE"}
	var missing []string
	for _, v := range vars {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		if os.Getenv("MESHGATE_SKIP_STEPCA") == "1" {
			t.Skip("MESHGATE_SKIP_STEPCA=1: not testing against a real step-ca")
		}
		t.Fatalf("no step-ca to test against (%s unset): run `eval \"$(.ci/stepca.sh start)\"` first, or set MESHGATE_SKIP_STEPCA=1", strings.Join(missing, ", "))
	}
	return map[string]any{
		"url":             os.Getenv("MESHGATE_TEST_STEPCA_URL"),
		"rootFingerprint": os.Getenv("MESHGATE_TEST_STEPCA_FINGERPRINT"),
		"provisioner":     os.Getenv("MESHGATE_TEST_STEPCA_PROVISIONER"),
		"password":        map[string]any{"file": os.Getenv("MESHGATE_TEST_STEPCA_PASSWORD_FILE")},
	}
}

// A mesh whose CA backend is a real step-ca gets leaves that chain to the step-ca root, checked
// by go-spiffe and openssl like every other backend's.
func TestStepCABackendIssuesMeshLeaves(t *testing.T) {
	conf := stepCAConf(t)
	m := newManager(t, ca.Options{})
	authority, err := m.For(context.Background(), meshWith("default", api.CABackend{Name: "step", Type: api.CABackendStepCA, Conf: conf}))
	require.NoError(t, err)
	is := issue(t, authority, ca.IssueRequest{Mesh: "default", Services: []string{"web"}, Tags: map[string][]string{"kuma.io/service": {"web"}}})
	verifyBoth(t, bundleOf(t, authority), is)
	assert.Contains(t, uriStrings(is.leaf), "spiffe://default/web")
}
