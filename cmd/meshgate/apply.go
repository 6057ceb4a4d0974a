package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/api/rest/wire"
	api "github.com/meshgate/meshgate/api/v1alpha1"
)

func newApplyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apply -f PATH...",
		Short: "Create or update resources on a running control plane, all in one transaction",
		Args:  cobra.NoArgs,
	}
	files := fileFlag(cmd)
	copts := clientFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		// Loading locally first shows file:line for every mistake before anything is sent.
		objs, errs := api.LoadFiles(*files)
		if len(errs) > 0 {
			fmt.Fprintln(cmd.ErrOrStderr(), errs)
			return &exitError{code: 1, err: fmt.Errorf("validation failed")}
		}
		if len(objs) == 0 {
			return &exitError{code: 1, err: fmt.Errorf("no resources in %v", *files)}
		}
		body, err := encodeAll(objs)
		if err != nil {
			return err
		}
		c, err := copts.client(cmd)
		if err != nil {
			return err
		}
		results, err := c.Apply(cmd.Context(), body)
		if err != nil {
			return apiFailure(cmd.ErrOrStderr(), err, locateIn(objs))
		}
		for _, r := range results {
			fmt.Fprintln(cmd.OutOrStdout(), displayName(r.Type, r.Mesh, r.Name), r.Status)
		}
		return nil
	}
	return cmd
}

// encodeAll sends the decoded resources in universal form, whatever form the files used, so
// the server sees exactly what was validated here.
func encodeAll(objs []api.Object) ([]byte, error) {
	var buf bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		b, err := api.Encode(o)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// locateIn maps a server cause back to the file and line the resource was loaded from, so an
// error the server finds (a mesh that does not exist) reads like one validate finds.
func locateIn(objs []api.Object) func(wire.Cause) string {
	byName := make(map[string]*api.Meta, len(objs))
	for _, o := range objs {
		byName[o.GetMeta().DisplayName()] = o.GetMeta()
	}
	return func(c wire.Cause) string {
		m, ok := byName[c.Resource]
		if !ok || m.Source.File == "" {
			return ""
		}
		return fmt.Sprintf("%s:%d: ", m.Source.File, m.Source.LineOf(c.Field))
	}
}
