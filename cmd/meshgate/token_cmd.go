package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/ca/tokens"
)

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Issue and revoke dataplane tokens (dataplanes present them to the xDS server) and zone tokens",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newTokenDataplaneCmd(), newTokenRevokeCmd(), newTokenZoneCmd(), newTokenZoneIngressCmd())
	return cmd
}

func newTokenDataplaneCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataplane --mesh M --name N [--valid-for D]",
		Short: "Print a new token for one dataplane (for bootstrap --dataplane-token-file)",
		Args:  cobra.NoArgs,
	}
	copts := clientFlags(cmd)
	f := cmd.Flags()
	mesh := f.String("mesh", "", "mesh of the dataplane")
	name := f.String("name", "", "name of the dataplane")
	validFor := f.Duration("valid-for", tokens.DefaultValidFor, fmt.Sprintf("how long the token is valid, at most %s", tokens.MaxValidFor))
	_ = cmd.MarkFlagRequired("mesh")
	_ = cmd.MarkFlagRequired("name")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		token, err := c.DataplaneToken(cmd.Context(), *mesh, *name, *validFor)
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		_, err = fmt.Fprintln(cmd.OutOrStdout(), token)
		return err
	}
	return cmd
}

func newTokenRevokeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke (--mesh M --id ID | --token-file F)",
		Short: "Revoke a dataplane token by its id (jti), or the token in a file",
		Long: "Revoke a dataplane token: every control plane refuses it from then on, and ends the xDS streams " +
			"it opened (the one asked before answering, the others sharing its store within a few seconds).",
		Args: cobra.NoArgs,
	}
	copts := clientFlags(cmd)
	f := cmd.Flags()
	mesh := f.String("mesh", "", "mesh of the token")
	id := f.String("id", "", "id of the token (its jti claim)")
	tokenFile := f.String("token-file", "", "file holding the token to revoke (its mesh and id are read from it)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		m, jti := *mesh, *id
		if *tokenFile != "" {
			if jti != "" {
				return &exitError{code: 1, err: errors.New("give --id or --token-file, not both")}
			}
			info, err := readTokenInfo(*tokenFile)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if m != "" && m != info.Mesh {
				return &exitError{code: 1, err: fmt.Errorf("%s holds a token of mesh %q, not %q", *tokenFile, info.Mesh, m)}
			}
			m, jti = info.Mesh, info.ID
		}
		if m == "" || jti == "" {
			return &exitError{code: 1, err: errors.New("name the token: --mesh M --id ID, or --token-file F")}
		}
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		if err := c.RevokeDataplaneToken(cmd.Context(), m, jti); err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, nil)
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "revoked dataplane token %s in mesh %s\n", jti, m)
		return err
	}
	return cmd
}

// readTokenInfo reads a token's claims without verifying them: revoking needs only its id, and
// revoking a forged id harms nothing.
func readTokenInfo(path string) (tokens.Info, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return tokens.Info{}, err
	}
	info, err := tokens.ParseUnverified(strings.TrimSpace(string(raw)))
	if err != nil {
		return tokens.Info{}, fmt.Errorf("%s: %w", path, err)
	}
	if info.Mesh == "" || info.ID == "" {
		return tokens.Info{}, fmt.Errorf("%s: the token names no mesh or id", path)
	}
	return info, nil
}
