package main

import (
	"fmt"

	"github.com/spf13/cobra"

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
		for _, n := range render.Notes(m) {
			fmt.Fprintln(cmd.ErrOrStderr(), "note:", n)
		}
		fmt.Fprintln(cmd.OutOrStdout(), "ok")
		return nil
	}
	return cmd
}
