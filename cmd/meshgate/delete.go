package main

import (
	"fmt"

	"github.com/spf13/cobra"

	api "github.com/meshgate/meshgate/api/v1alpha1"
)

func newDeleteCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete KIND NAME [--mesh M]",
		Short: "Delete a resource from a running control plane (a mesh only once it is empty)",
		Args:  cobra.ExactArgs(2),
	}
	copts := clientFlags(cmd)
	mesh := cmd.Flags().StringP("mesh", "m", api.DefaultMesh, "mesh of the resource")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		info, err := parseKind(args[0])
		if err != nil {
			return err
		}
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		if err := c.Delete(cmd.Context(), info.Kind, *mesh, args[1]); err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		resMesh := *mesh
		if info.Global {
			resMesh = ""
		}
		fmt.Fprintln(cmd.OutOrStdout(), displayName(string(info.Kind), resMesh, args[1]), "deleted")
		return nil
	}
	return cmd
}
