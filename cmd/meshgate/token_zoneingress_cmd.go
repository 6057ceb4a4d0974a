package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newTokenZoneIngressCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "zone-ingress --name NAME [--valid-for D]",
		Short: "Print a new ZoneIngress token (against the zone control plane), for the ingress's meshgate bootstrap",
		Args:  cobra.NoArgs,
	}
	copts := clientFlags(cmd)
	name := cmd.Flags().String("name", "", "the ZoneIngress's name")
	validFor := cmd.Flags().Duration("valid-for", 0, "how long the token is valid (default: a year)")
	_ = cmd.MarkFlagRequired("name")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		token, err := c.ZoneIngressToken(cmd.Context(), *name, *validFor)
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), token)
		return err
	}
	return cmd
}
