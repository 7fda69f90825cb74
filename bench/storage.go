// Package bench holds the project's own benchmarks behind `stratos bench`:
// they run against a live network and print machine-readable results.
package bench

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratos-net/stratos/client"
)

// StorageConfig configures the storage benchmark.
type StorageConfig struct {
	Size       int64 // bytes of the large file
	SmallSize  int64 // bytes of each small file (4 KiB)
	SmallFiles int   // how many small files to put and get
	// SmallClients put (then get) the small files concurrently, as that
	// many users would; 1 is one after the other.
	SmallClients int
	DiskDir      string // where to measure raw disk write throughput
	Dir          string // remote directory for the benchmark's files
	Keep         bool   // leave the files on the network
	Seed         uint64
	// Progress, if set, is told which phase runs.
	Progress func(phase string)
}

// DefaultStorageConfig measures a 1 GiB file and 200 files of 4 KiB.
func DefaultStorageConfig() StorageConfig {
	return StorageConfig{Size: 1 << 30, SmallSize: 4 << 10, SmallFiles: 200, SmallClients: 1, Dir: "/.bench", Seed: 1}
}

// Validate reports a configuration that cannot run.
func (c StorageConfig) Validate() error {
	if c.Size <= 0 || c.SmallSize <= 0 || c.SmallFiles <= 0 || c.SmallClients <= 0 || c.DiskDir == "" || c.Dir == "" {
		return errors.New("bench storage: size, small size, small files, small clients, disk dir and dir must be set")
	}
	return nil
}

// Percentiles are latencies in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// StorageResult is what `stratos bench storage --json` prints. Throughputs
// are in MB/s (10^6 bytes per second).
type StorageResult struct {
	SizeBytes     int64   `json:"size_bytes"`
	SliceSize     uint64  `json:"slice_size"`
	Replicas      uint32  `json:"replicas"`
	DiskFsyncMBps float64 `json:"disk_fsync_write_mbps"`
	// DiskSliceMBps writes the same bytes but fsyncs after every slice, as
	// a resource node does; the page cache flatters it less than one fsync
	// at the end, so it shows what the disk sustains for the upload path.
	DiskSliceMBps  float64     `json:"disk_fsync_per_slice_mbps"`
	UploadMBps     float64     `json:"upload_mbps"`
	DownloadMBps   float64     `json:"download_mbps"`
	UploadTarget   float64     `json:"upload_target_mbps"`         // 50% of disk / replicas
	UploadVsDiskPR float64     `json:"upload_vs_disk_per_replica"` // upload / (disk / replicas)
	SmallFileBytes int64       `json:"small_file_bytes"`
	SmallFiles     int         `json:"small_files"`
	SmallClients   int         `json:"small_clients"`
	SmallPutMs     Percentiles `json:"small_put_ms"`
	SmallGetMs     Percentiles `json:"small_get_ms"`
}

// Storage runs the benchmark against the network c talks to.
func Storage(ctx context.Context, c *client.Client, cfg StorageConfig) (*StorageResult, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	say := func(p string) {
		if cfg.Progress != nil {
			cfg.Progress(p)
		}
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	res := &StorageResult{SizeBytes: cfg.Size, SliceSize: st.GetSliceSize(), Replicas: st.GetReplicas(), SmallFileBytes: cfg.SmallSize, SmallFiles: cfg.SmallFiles, SmallClients: cfg.SmallClients}

	say("disk: sequential write with fsync")
	if res.DiskFsyncMBps, err = DiskWrite(cfg.DiskDir, cfg.Size, 0); err != nil {
		return nil, err
	}
	if res.DiskSliceMBps, err = DiskWrite(cfg.DiskDir, cfg.Size, int64(res.SliceSize)); err != nil {
		return nil, err
	}
	res.UploadTarget = res.DiskFsyncMBps / float64(res.Replicas) / 2

	big := cfg.Dir + fmt.Sprintf("/big-%d", time.Now().UnixNano())
	say("upload " + big)
	want := crc32.New(castagnoli)
	start := time.Now()
	if _, err := c.Put(ctx, big, io.TeeReader(io.LimitReader(newStream(cfg.Seed), cfg.Size), want), cfg.Size, client.PutOptions{}); err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	res.UploadMBps = mbps(cfg.Size, time.Since(start))
	res.UploadVsDiskPR = res.UploadMBps / (res.DiskFsyncMBps / float64(res.Replicas))

	say("download " + big)
	got := crc32.New(castagnoli)
	start = time.Now()
	if _, err := c.Get(ctx, big, got, client.GetOptions{}); err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	res.DownloadMBps = mbps(cfg.Size, time.Since(start))
	if got.Sum32() != want.Sum32() {
		return nil, errors.New("download: the bytes differ from the ones uploaded")
	}

	say(fmt.Sprintf("%d small files", cfg.SmallFiles))
	if res.SmallPutMs, res.SmallGetMs, err = smallFiles(ctx, c, cfg); err != nil {
		return nil, err
	}
	if !cfg.Keep {
		c.Remove(ctx, big)
	}
	return res, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func smallFiles(ctx context.Context, c *client.Client, cfg StorageConfig) (put, get Percentiles, err error) {
	rng := newStream(cfg.Seed + 1)
	base := cfg.Dir + fmt.Sprintf("/small-%d", time.Now().UnixNano())
	paths := make([]string, cfg.SmallFiles)
	data := make([][]byte, cfg.SmallFiles)
	for i := range paths {
		paths[i], data[i] = fmt.Sprintf("%s/%04d", base, i), make([]byte, cfg.SmallSize)
		rng.Read(data[i])
	}
	defer func() {
		if !cfg.Keep {
			for _, p := range paths {
				c.Remove(ctx, p)
			}
		}
	}()
	puts, err := timeEach(cfg.SmallClients, len(paths), func(i int) error {
		if _, err := c.Put(ctx, paths[i], bytesReader(data[i]), cfg.SmallSize, client.PutOptions{}); err != nil {
			return fmt.Errorf("small put %s: %w", paths[i], err)
		}
		return nil
	})
	if err != nil {
		return put, get, err
	}
	gets, err := timeEach(cfg.SmallClients, len(paths), func(i int) error {
		if _, err := c.Get(ctx, paths[i], io.Discard, client.GetOptions{}); err != nil {
			return fmt.Errorf("small get %s: %w", paths[i], err)
		}
		return nil
	})
	return percentiles(puts), percentiles(gets), err
}

// timeEach runs f(0..n-1) from workers goroutines and times each call.
func timeEach(workers, n int, f func(i int) error) ([]time.Duration, error) {
	ds := make([]time.Duration, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				start := time.Now()
				errs[i] = f(i)
				ds[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	return ds, errors.Join(errs...)
}

// DiskWrite measures sequential write throughput with fsync the way
// `dd bs=1M conv=fdatasync` does: size bytes in 1 MiB writes, then one
// fsync, timed together; with syncEvery > 0 it also fsyncs after every
// syncEvery bytes. It returns MB/s.
func DiskWrite(dir string, size, syncEvery int64) (float64, error) {
	f, err := os.CreateTemp(dir, ".bench-disk-*")
	if err != nil {
		return 0, fmt.Errorf("disk benchmark: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 1<<20)
	newStream(7).Read(buf)
	start := time.Now()
	for n := int64(0); n < size; n += int64(len(buf)) {
		chunk := buf[:min(int64(len(buf)), size-n)]
		if _, err := f.Write(chunk); err != nil {
			return 0, fmt.Errorf("disk benchmark write %s: %w", filepath.Base(f.Name()), err)
		}
		if done := n + int64(len(chunk)); syncEvery > 0 && done%syncEvery == 0 {
			if err := f.Sync(); err != nil {
				return 0, fmt.Errorf("disk benchmark fsync: %w", err)
			}
		}
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("disk benchmark fsync: %w", err)
	}
	return mbps(size, time.Since(start)), nil
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := int(q * float64(len(ds)-1))
		return float64(ds[i].Microseconds()) / 1000
	}
	return Percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: at(1)}
}

// newStream is a fast deterministic stream of incompressible bytes.
func newStream(seed uint64) io.Reader {
	var s [32]byte
	for i := range 4 {
		s[i*8] = byte(seed >> (8 * i))
	}
	return rand.NewChaCha8(s)
}

type sliceReader struct {
	b []byte
	i int
}

func (r *sliceReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b: b} }
