package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/stratos-net/stratos/bench"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure a running network"}
	cmd.AddCommand(newBenchStorageCmd())
	return cmd
}

func newBenchStorageCmd() *cobra.Command {
	var f clientFlags
	cfg := bench.DefaultStorageConfig()
	size, small := byteSize(cfg.Size), byteSize(cfg.SmallSize)
	cmd := &cobra.Command{
		Use:   "storage",
		Short: "Upload and download throughput, small-file latency, and the disk's own fsync write speed",
		Long: `Against a running network (e.g. stratos devnet): writes --size bytes to the disk
under --home with fsync (dd-style) to measure the raw disk, uploads and downloads
a file of --size bytes, then puts and gets --small-files files of --small-size.
Throughput is in MB/s (10^6 bytes/s), latency in milliseconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Size, cfg.SmallSize, cfg.DiskDir = int64(size), int64(small), f.home
			if !f.json {
				cfg.Progress = func(p string) { fmt.Fprintln(os.Stderr, "bench:", p) }
			}
			c, err := f.open()
			if err != nil {
				return err
			}
			defer c.Close()
			res, err := bench.Storage(cmd.Context(), c, cfg)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "disk write+fsync   %8.1f MB/s (dd-style, one fsync)\n", res.DiskFsyncMBps)
			fmt.Fprintf(w, "disk fsync/slice   %8.1f MB/s (an fsync per %s slice, as nodes do)\n", res.DiskSliceMBps, humanBytes(int64(res.SliceSize)))
			fmt.Fprintf(w, "upload   %s %8.1f MB/s  (%.0f%% of disk/%d replicas; target 50%%)\n", humanBytes(res.SizeBytes), res.UploadMBps, 100*res.UploadVsDiskPR, res.Replicas)
			fmt.Fprintf(w, "download %s %8.1f MB/s\n", humanBytes(res.SizeBytes), res.DownloadMBps)
			fmt.Fprintf(w, "small files: %d clients at once\n", res.SmallClients)
			fmt.Fprintf(w, "put %s  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms\n", humanBytes(res.SmallFileBytes), res.SmallPutMs.P50, res.SmallPutMs.P90, res.SmallPutMs.P99)
			fmt.Fprintf(w, "get %s  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms\n", humanBytes(res.SmallFileBytes), res.SmallGetMs.P50, res.SmallGetMs.P90, res.SmallGetMs.P99)
			return nil
		},
	}
	addClientFlags(cmd, &f)
	fl := cmd.Flags()
	fl.Var(&size, "size", "size of the large file, e.g. 1GiB")
	fl.Var(&small, "small-size", "size of each small file")
	fl.IntVar(&cfg.SmallFiles, "small-files", cfg.SmallFiles, "number of small files")
	fl.IntVar(&cfg.SmallClients, "small-clients", cfg.SmallClients, "small files put and got at once, as that many users would")
	fl.BoolVar(&cfg.Keep, "keep", false, "leave the benchmark's files on the network")
	return cmd
}
