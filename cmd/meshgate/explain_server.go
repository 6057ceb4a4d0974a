package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/meshgate/meshgate/api/client"
	"github.com/meshgate/meshgate/xds/explain"
	"github.com/meshgate/meshgate/xds/names"
	"github.com/meshgate/meshgate/xds/render"
)

// explainOnServer is `meshgate explain --server`: the running control plane at --api-address
// explains req on the configuration it serves the dataplane now (on a zone: global's routes,
// other zones' ZoneIngresses), instead of a configuration rendered from files.
func explainOnServer(cmd *cobra.Command, co *clientOptions, mesh, name string, req explain.Request, sourceURIs []string, output string) error {
	if cmd.Flags().Changed("source") {
		return &exitError{code: 1, err: fmt.Errorf("--source needs the resources (-f); with --server, give the caller's certificate URIs with --source-uri")}
	}
	follow, _ := cmd.Flags().GetBool("follow")
	follow = follow && cmd.Flags().Changed("follow")
	c, err := co.client(cmd)
	if err != nil {
		return err
	}
	creq := client.ExplainRequest{Port: req.Port, Host: req.Host, Path: req.Path, Method: req.Method, SNI: req.SNI,
		Address: req.Address, TLS: req.TLS, Plaintext: req.Plaintext, SourceURIs: sourceURIs, Follow: follow}
	for _, h := range req.Headers {
		creq.Headers = append(creq.Headers, h.Name+"="+h.Value)
	}
	if len(sourceURIs) > 0 && !req.Plaintext {
		// Mesh clients offer the mesh ALPN, which cross-mesh listeners require (as with -f).
		creq.ALPN = []string{names.MeshALPN}
	}
	raw, err := c.Explain(cmd.Context(), mesh, name, creq)
	if err != nil {
		return apiFailure(cmd.ErrOrStderr(), err, nil)
	}
	w := cmd.OutOrStdout()
	if follow {
		var hops struct {
			Hops []render.Hop `json:"hops"`
		}
		if err := json.Unmarshal(raw, &hops); err != nil {
			return &exitError{code: 1, err: fmt.Errorf("explain of %s/%s: the server's answer: %w", mesh, name, err)}
		}
		if output == "text" {
			_, err = fmt.Fprint(w, render.HopsText(hops.Hops))
			return err
		}
		b, err := render.Marshal(&hops, output)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		_, err = w.Write(b)
		return err
	}
	var res explain.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("explain of %s/%s: the server's answer: %w", mesh, name, err)}
	}
	if output == "text" {
		_, err = fmt.Fprint(w, res.Text())
		return err
	}
	b, err := render.Marshal(&res, output)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	_, err = w.Write(b)
	return err
}
