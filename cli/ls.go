package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratos-net/stratos/client"
)

type entryJSON struct {
	Name   string `json:"name"`
	Dir    bool   `json:"dir"`
	Path   string `json:"path,omitempty"`
	Size   uint64 `json:"size,omitempty"`
	FileID string `json:"file_id,omitempty"`
	// Encrypted: Size is the plaintext's (package crypt).
	Encrypted bool   `json:"encrypted,omitempty"`
	Created   string `json:"created,omitempty"`
}

func newLsCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "ls [DIR]",
		Short: "List a directory (default /)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "/"
			if len(args) == 1 {
				dir = remoteArg(args[0])
			}
			c, err := f.open()
			if err != nil {
				return err
			}
			defer c.Close()
			entries, err := c.List(cmd.Context(), dir)
			if err != nil {
				return explain(err, f.home)
			}
			out := []entryJSON{}
			for _, e := range entries {
				j := entryJSON{Name: e.GetName(), Dir: e.GetDir()}
				if fe := e.GetFile(); fe != nil {
					j.Path, j.Size, j.FileID = fe.GetPath(), uint64(client.PlainSize(fe)), fe.GetFileId()
					j.Encrypted = fe.GetEncrypted()
					j.Created = time.Unix(0, fe.GetCreatedUnixNano()).UTC().Format(time.RFC3339)
				}
				out = append(out, j)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"dir": dir, "entries": out})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', tabwriter.AlignRight)
			for _, e := range out {
				if e.Dir {
					fmt.Fprintf(tw, "-\t\t%s/\t\n", e.Name)
					continue
				}
				name := e.Name
				if e.Encrypted {
					name += "  (encrypted)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t\n", humanBytes(int64(e.Size)), e.Created, name)
			}
			return tw.Flush()
		},
	}
	addClientFlags(cmd, &f)
	return cmd
}
