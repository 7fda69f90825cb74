package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratos-net/stratos/client"
)

func newGetCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "get REMOTE|FILE_ID LOCAL",
		Short: "Download a file by path or file ID (LOCAL may be - for standard output)",
		Long: `Download a file. Every slice is verified against its ID on arrival; a bad or
missing replica is skipped for the next holder and reported. The local file
appears only once it is complete: a failed download leaves nothing behind.`,
		Example: "  stratos get /videos/movie.mp4 ./copy.mp4\n  stratos get merkle-sha256-… - | sha256sum",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			remote, local := remoteArg(args[0]), args[1]
			c, err := f.open()
			if err != nil {
				return err
			}
			defer c.Close()
			st, err := c.Stat(cmd.Context(), remote)
			if err != nil {
				return explain(err, f.home)
			}
			size := client.PlainSize(st.GetFile())
			start := time.Now()
			if local == "-" {
				_, err = c.Get(cmd.Context(), remote, cmd.OutOrStdout(), client.GetOptions{})
				return explain(err, f.home)
			}
			dst := localTarget(local, st.GetFile().GetPath())
			progress, done := newProgress(int64(st.GetFile().GetSize()), "download") // counts stored bytes
			err = writeAtomically(dst, func(w io.Writer) error {
				_, err := c.Get(cmd.Context(), remote, w, client.GetOptions{Progress: progress})
				return err
			})
			done()
			if err != nil {
				return explain(err, f.home)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), toFileJSON(st.GetFile(), st.GetSlices()))
			}
			el := time.Since(start)
			fmt.Fprintf(cmd.OutOrStdout(), "%s  %s in %s (%s)\n", dst, humanBytes(size), el.Round(time.Millisecond), rate(size, el))
			return nil
		},
	}
	addClientFlags(cmd, &f)
	return cmd
}

// localTarget puts the download inside LOCAL when LOCAL is a directory.
func localTarget(local, remotePath string) string {
	if st, err := os.Stat(local); err == nil && st.IsDir() {
		return filepath.Join(local, filepath.Base(remotePath))
	}
	return local
}

// writeAtomically writes to a temporary file beside dst and renames it into
// place only if write succeeds.
func writeAtomically(dst string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part-*")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	ok = true
	return nil
}
