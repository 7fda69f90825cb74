package cli

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/crypt"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

func newPutCmd() *cobra.Command {
	var f clientFlags
	var overwrite, encrypt bool
	cmd := &cobra.Command{
		Use:   "put LOCAL REMOTE",
		Short: "Upload a file (LOCAL may be - for standard input)",
		Long: `Upload LOCAL to the network at REMOTE. A REMOTE ending in / is a directory: the
file keeps its name. The file becomes visible only when every slice is stored
on enough resource nodes.`,
		Example: "  stratos put ./movie.mp4 /videos/movie.mp4\n  stratos put ./notes.txt /docs/\n  stratos put --encrypt ./tax.pdf /docs/tax.pdf",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, size, cleanup, err := openLocal(args[0])
			if err != nil {
				return err
			}
			defer cleanup()
			remote := remotePath(args[1], args[0])
			c, err := f.open()
			if err != nil {
				return err
			}
			defer c.Close()
			stored := size
			if encrypt {
				stored = crypt.SealedSize(size) // progress counts the stored bytes
			}
			progress, done := newProgress(stored, "upload")
			start := time.Now()
			opts := putOptions(overwrite, progress)
			opts.Encrypt = encrypt
			body := objectMeta(remote, src, &opts)
			entry, err := c.Put(cmd.Context(), remote, body, size, opts)
			done()
			if err != nil {
				return explain(err, f.home)
			}
			if f.json {
				out := toFileJSON(entry, nil)
				return printJSON(cmd.OutOrStdout(), out)
			}
			el := time.Since(start)
			fmt.Fprintf(cmd.OutOrStdout(), "%s  %s in %d slices, %s (%s)\nfile id %s\n", entry.GetPath(), humanBytes(size),
				len(entry.GetSlices()), el.Round(time.Millisecond), rate(size, el), entry.GetFileId())
			if encrypt {
				fmt.Fprintln(cmd.OutOrStdout(), "encrypted on this machine: only this account's key, or a share link of the file, reads it")
			}
			return nil
		},
	}
	addClientFlags(cmd, &f)
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace an existing file at REMOTE")
	cmd.Flags().BoolVar(&encrypt, "encrypt", false, "encrypt on this machine before upload (AES-256-GCM under a key derived from --from's account key); get decrypts")
	return cmd
}

// openLocal opens the file to upload. Standard input is spooled to a
// temporary file first: an upload must announce its size.
func openLocal(name string) (io.Reader, int64, func(), error) {
	if name == "-" {
		tmp, err := os.CreateTemp("", "stratos-put-*")
		if err != nil {
			return nil, 0, nil, err
		}
		cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
		n, err := io.Copy(tmp, os.Stdin)
		if err == nil {
			_, err = tmp.Seek(0, io.SeekStart)
		}
		if err != nil {
			cleanup()
			return nil, 0, nil, fmt.Errorf("read standard input: %w", err)
		}
		return tmp, n, cleanup, nil
	}
	fh, err := os.Open(name)
	if err != nil {
		return nil, 0, nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, 0, nil, err
	}
	if !st.Mode().IsRegular() {
		fh.Close()
		return nil, 0, nil, fmt.Errorf("%s is not a regular file", name)
	}
	return fh, st.Size(), func() { fh.Close() }, nil
}

// remotePath makes REMOTE absolute and appends the local name to a
// directory target.
func remotePath(remote, local string) string {
	remote = remoteArg(remote)
	if strings.HasSuffix(remote, "/") && local != "-" {
		remote = path.Join(remote, filepath.Base(local))
	}
	return remote
}

func putOptions(overwrite bool, p client.Progress) client.PutOptions {
	return client.PutOptions{Overwrite: overwrite, Progress: p}
}

// objectMeta stores with the file what S3 clients expect of an object
// (issue 9): a Content-Type from the name, and the MD5 of the bytes as its
// ETag, taken as they are read. It returns the reader to upload.
func objectMeta(remote string, src io.Reader, opts *client.PutOptions) io.Reader {
	sum := md5.New()
	opts.Object = func() *metav1.ObjectMeta {
		return &metav1.ObjectMeta{ContentType: mime.TypeByExtension(path.Ext(remote)), Etag: hex.EncodeToString(sum.Sum(nil))}
	}
	return io.TeeReader(src, sum)
}
