package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/api/client"
)

func newTokenZoneIngressCmd() *cobra.Command {
	return newSubjectTokenCmd("zone-ingress --name NAME [--valid-for D]",
		"Print a new ZoneIngress token (against the zone control plane), for the ingress's meshgate bootstrap",
		"name", "the ZoneIngress's name", (*client.Client).ZoneIngressToken)
}

func newTokenZoneCmd() *cobra.Command {
	return newSubjectTokenCmd("zone --zone NAME [--valid-for D]",
		"Print a new zone token (against the global control plane), for run --mode zone --zone-token-file",
		"zone", "the zone's name", (*client.Client).ZoneToken)
}

// newSubjectTokenCmd is a command that asks the API for a token naming one subject (a zone or
// a ZoneIngress) and prints it.
func newSubjectTokenCmd(use, short, flag, flagHelp string,
	issue func(*client.Client, context.Context, string, time.Duration) (string, error)) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	copts := clientFlags(cmd)
	subject := cmd.Flags().String(flag, "", flagHelp)
	validFor := cmd.Flags().Duration("valid-for", 0, "how long the token is valid (default: a year)")
	_ = cmd.MarkFlagRequired(flag)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		token, err := issue(c, cmd.Context(), *subject, *validFor)
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), token)
		return err
	}
	return cmd
}
