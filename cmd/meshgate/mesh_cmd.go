package main

import (
	"fmt"

	"github.com/spf13/cobra"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/model"
)

func newMeshCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mesh",
		Short: "Resources that set up a mesh",
	}
	cmd.AddCommand(newMeshAllowAllCmd())
	return cmd
}

// newMeshAllowAllCmd writes the allow-all TrafficPermission older Kuma releases created
// with every mesh.
// meshgate never adds it: an mTLS mesh without TrafficPermission denies all traffic (as in Kuma 2.13),
// and an operator who wants the old behaviour makes that choice with a resource everyone sees.
func newMeshAllowAllCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "allow-all --mesh M [--apply]",
		Short: "Print (or apply) a TrafficPermission that lets every service of the mesh call every other",
		Long: `Print (or apply) a TrafficPermission that lets every service of the mesh call every other.

An mTLS mesh without any TrafficPermission denies all inbound traffic, as in Kuma 2.13;
meshgate adds no permission of its own. This is the allow-all-<mesh> permission older Kuma
releases created with every mesh, for an operator who wants that. By default it is printed as
YAML, to save next to your resources (meshgate apply -f FILE, or a --resources directory);
--apply sends it to the control plane.`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	mesh := f.String("mesh", "", "the mesh")
	apply := f.Bool("apply", false, "send it to the control plane instead of printing it")
	copts := clientFlags(cmd)
	_ = cmd.MarkFlagRequired("mesh")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		tp := model.AllowAllPermission(*mesh)
		if errs := tp.Validate(); len(errs) > 0 {
			fmt.Fprintln(cmd.ErrOrStderr(), errs)
			return &exitError{code: 1, err: fmt.Errorf("--mesh %q is not a valid mesh name", *mesh)}
		}
		if !*apply {
			_, err := fmt.Fprint(cmd.OutOrStdout(), allowAllYAML(*mesh))
			return err
		}
		body, err := encodeAll([]api.Object{tp})
		if err != nil {
			return err
		}
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		results, err := c.Apply(cmd.Context(), body)
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		for _, r := range results {
			fmt.Fprintln(cmd.OutOrStdout(), displayName(r.Type, r.Mesh, r.Name), r.Status)
		}
		return nil
	}
	return cmd
}

// allowAllYAML is model.AllowAllPermission(mesh) in universal form, laid out as a user writes
// it, with a comment saying what it does (TestMeshAllowAll checks that they agree).
func allowAllYAML(mesh string) string {
	return fmt.Sprintf(`# Every service of mesh %[1]s may call every other. An mTLS mesh without any
# TrafficPermission denies all traffic; older Kuma releases created this one with every mesh.
type: TrafficPermission
mesh: %[1]s
name: %[2]s
sources:
  - match:
      kuma.io/service: '*'
destinations:
  - match:
      kuma.io/service: '*'
`, mesh, model.AllowAllPermissionName(mesh))
}
