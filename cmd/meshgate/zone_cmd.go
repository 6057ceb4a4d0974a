package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newZoneCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "zone",
		Short: "Manage the zones of a global control plane",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newZoneRevokeCmd())
	return cmd
}

func newZoneRevokeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Cut a zone off (against the global control plane): its tokens, its sync and its intermediate CAs",
		Long: "Revoke a zone whose control plane may be compromised: global refuses every token issued to it, " +
			"ends its open sync streams, and revokes its intermediate CA of every builtin mesh backend, so it is " +
			"signed no new one and the old ones are listed in the mesh's CRL. The zone keeps serving what it has; " +
			"certificates it already issued stay valid until its intermediate expires.",
		Args: cobra.ExactArgs(1),
	}
	copts := clientFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		res, err := c.RevokeZone(cmd.Context(), args[0])
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		revoked := "none"
		if len(res.Intermediates) > 0 {
			revoked = strings.Join(res.Intermediates, ", ")
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "revoked zone %s: %d sync stream(s) ended; intermediates revoked: %s\n", res.Zone, res.StreamsEnded, revoked)
		return err
	}
	return cmd
}
