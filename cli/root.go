// Package cli implements the stratos command line: one file per subcommand.
// Flag parsing and configuration reading stay here; the packages below get
// config structs.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string) int {
	root, err := newRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		return 1
	}
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			return int(ec)
		}
		fmt.Fprintln(os.Stderr, "Error:", err)
		return 1
	}
	return 0
}

// exitCode ends a command with a status and no further message.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newRoot() (*cobra.Command, error) {
	root := &cobra.Command{
		Use:           "stratos",
		Short:         "Stratos: a decentralized data mesh",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newDevnetCmd(), newNodeCmd(), newStatusCmd(),
		newPutCmd(), newGetCmd(), newLsCmd(), newStatCmd(), newRmCmd(),
		newBenchCmd(), newInitCmd(), newGatewayCmd(), newShareCmd(), newFnCmd(),
	)
	if err := addChainCommands(root); err != nil {
		return nil, fmt.Errorf("chain commands: %w", err)
	}
	return root, nil
}
