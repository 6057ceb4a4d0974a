package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/ca"
	"github.com/meshgate/meshgate/model"
	"github.com/meshgate/meshgate/xds/render"
)

func newValidateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate -f PATH...",
		Short: "Check resource files; print every error with file, line, resource and field",
		Args:  cobra.NoArgs,
	}
	files := fileFlag(cmd)
	opts := gatewayFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		m, err := render.Load(*files)
		if err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), err)
			return &exitError{code: 1, err: fmt.Errorf("validation failed")}
		}
		if errs := render.CrossMeshErrors(m); len(errs) > 0 {
			fmt.Fprintln(cmd.ErrOrStderr(), errs)
			return &exitError{code: 1, err: fmt.Errorf("validation failed")}
		}
		// Building every dataplane surfaces what only shows once resources meet: a route that
		// matches no listener, a certificate secret that does not exist.
		warnings, err := render.CheckAll(m, *opts)
		if err != nil {
			return err
		}
		for _, w := range warnings {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
		}
		// Meshes isolated by their CAs only if their roots differ; the control plane logs the
		// same warning.
		for _, s := range ca.SharedRoots(ca.ProvidedRoots(cmd.Context(), meshResources(m), modelSecrets(m))) {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning:", s.Warning(true))
		}
		for _, n := range render.Notes(m) {
			fmt.Fprintln(cmd.ErrOrStderr(), "warning:", n)
		}
		fmt.Fprintln(cmd.OutOrStdout(), "ok")
		return nil
	}
	return cmd
}

func meshResources(m *model.Model) []*api.Mesh {
	var out []*api.Mesh
	for _, mesh := range m.Meshes() {
		out = append(out, mesh.Resource)
	}
	return out
}

// modelSecrets resolves `secret:` data sources from the files' Secrets, as the control plane
// does from the store's.
func modelSecrets(m *model.Model) ca.SecretResolver {
	return func(_ context.Context, mesh, name string) ([]byte, error) {
		if m.Mesh(mesh) == nil || m.Mesh(mesh).Secrets[name] == nil {
			return nil, fmt.Errorf("secret %q not found in mesh %q", name, mesh)
		}
		return m.Mesh(mesh).Secrets[name].Spec.Bytes()
	}
}
