package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meshgate/meshgate/api/kube"
)

// The Deployment `meshgate install control-plane` prints runs `meshgate run` with flags that
// exist: a renamed flag would otherwise surface only as a crash-looping pod.
func TestInstalledDeploymentArgsParse(t *testing.T) {
	objs, err := kube.ControlPlane(kube.ControlPlaneOptions{Namespace: "meshgate-system", Image: "meshgate/meshgate:test", AdminTokenSecret: "meshgate-admin-token"})
	require.NoError(t, err)
	var args []string
	for _, o := range objs {
		if o["kind"] != "Deployment" {
			continue
		}
		spec := o["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		c := spec["containers"].([]any)[0].(map[string]any)
		for _, a := range c["args"].([]any) {
			args = append(args, a.(string))
		}
	}
	require.NotEmpty(t, args, "no Deployment in the output")
	require.Equal(t, "run", args[0])
	cmd := newRunCmd()
	require.NoError(t, cmd.ParseFlags(args[1:]), "args %v", args)
	env, err := cmd.Flags().GetString("environment")
	require.NoError(t, err)
	require.Equal(t, "kubernetes", env)
}
