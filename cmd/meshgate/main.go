// Command meshgate is the control plane for mesh gateways and cross-mesh mTLS.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries an exit code for errors that are the user's input, not meshgate failing.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "meshgate",
		Short:         "Control plane for Kuma-compatible mesh gateways and cross-mesh mTLS",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newValidateCmd(), newRenderCmd(), newExplainCmd(),
		newApplyCmd(), newGetCmd(), newDeleteCmd(), newInspectCmd())
	root.AddCommand(newRunCmd(), newBootstrapCmd())
	root.AddCommand(newTokenCmd(), newCACmd())
	root.AddCommand(newMeshCmd(), newZoneCmd())
	root.AddCommand(newInstallCmd(), newDataplaneCmd())
	root.AddCommand(newAgentCmd())
	return root
}
