package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newStatCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "stat REMOTE|FILE_ID",
		Short: "Show a file: its ID, size, slices and the nodes holding each slice",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := remoteArg(args[0])
			c, err := f.open()
			if err != nil {
				return err
			}
			defer c.Close()
			st, err := c.Stat(cmd.Context(), target)
			if err != nil {
				return explain(err, f.home)
			}
			out := toFileJSON(st.GetFile(), st.GetSlices())
			if f.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "path:     %s\nfile id:  %s\nsize:     %s (%d bytes)\ncreated:  %s\nslices:   %d\n",
				out.Path, out.FileID, humanBytes(int64(out.Size)), out.Size, out.Created, len(out.Slices))
			if out.Encrypted {
				fmt.Fprintf(w, "encrypted: yes, on the client; the network stores %d bytes of ciphertext\n", out.StoredSize)
			}
			for i, s := range out.Slices {
				fmt.Fprintf(w, "  %3d  %s  %8s  on %s\n", i, s.ID, humanBytes(int64(s.Size)), strings.Join(s.Replicas, ", "))
			}
			return nil
		},
	}
	addClientFlags(cmd, &f)
	return cmd
}
