package main

import (
	"fmt"

	"github.com/spf13/cobra"

	api "github.com/meshgate/meshgate/api/v1alpha1"
	"github.com/meshgate/meshgate/xds/render"
)

func newInspectCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect dataplane MESH/NAME [-o yaml|json]",
		Short: "Show the control plane's view of a dataplane: diagnostics and xDS stream status",
		Args:  cobra.ExactArgs(2),
	}
	copts := clientFlags(cmd)
	output := cmd.Flags().StringP("output", "o", "yaml", "output format: yaml or json")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if info, err := parseKind(args[0]); err != nil || info.Kind != api.KindDataplane {
			return &exitError{code: 1, err: fmt.Errorf("inspect %q: only dataplanes can be inspected", args[0])}
		}
		if err := checkOutput(*output, "yaml", "json"); err != nil {
			return err
		}
		mesh, name, err := render.ParseDataplane(args[1])
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		raw, err := c.Inspect(cmd.Context(), mesh, name)
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		return printJSON(cmd.OutOrStdout(), raw, *output)
	}
	return cmd
}
