package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newRmCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "rm REMOTE",
		Short: "Remove a file; its slices are deleted from the nodes unless another file uses them",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p := remoteArg(args[0])
			c, err := f.open()
			if err != nil {
				return err
			}
			defer c.Close()
			entry, err := c.Remove(cmd.Context(), p)
			if err != nil {
				return explain(err, f.home)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), toFileJSON(entry, nil))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", entry.GetPath())
			return nil
		},
	}
	addClientFlags(cmd, &f)
	return cmd
}
