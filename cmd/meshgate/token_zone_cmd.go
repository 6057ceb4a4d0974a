package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newTokenZoneCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "zone --zone NAME [--valid-for D]",
		Short: "Print a new zone token (against the global control plane), for run --mode zone --zone-token-file",
		Args:  cobra.NoArgs,
	}
	copts := clientFlags(cmd)
	zone := cmd.Flags().String("zone", "", "the zone's name")
	validFor := cmd.Flags().Duration("valid-for", 0, "how long the token is valid (default: a year)")
	_ = cmd.MarkFlagRequired("zone")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		token, err := c.ZoneToken(cmd.Context(), *zone, *validFor)
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), token)
		return err
	}
	return cmd
}
