package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/internal/cluster"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/slice"
)

func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(t *testing.T, c *client.Client, path string, data []byte) {
	t.Helper()
	if _, err := c.Put(context.Background(), path, bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
		t.Fatalf("put %s: %v", path, err)
	}
}

func get(t *testing.T, c *client.Client, pathOrID string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := c.Get(context.Background(), pathOrID, &buf, client.GetOptions{}); err != nil {
		t.Fatalf("get %s: %v", pathOrID, err)
	}
	return buf.Bytes()
}

// DESIGN §6.1–6.3: files of every shape round-trip byte for byte; each slice
// is on R distinct nodes in distinct regions; the file ID is the Merkle root
// and the same content has the same ID.
func TestRoundTrip(t *testing.T) {
	cl := cluster.Start(t, cluster.DefaultOptions())
	c := cl.Client()
	const ss = 256 << 10
	for i, size := range []int{0, 1, 4096, ss - 1, ss, ss + 1, 5*ss + 7} {
		data := randomBytes(uint64(i), size)
		p := fmt.Sprintf("/round/%d.bin", size)
		put(t, c, p, data)
		if got := get(t, c, p); !bytes.Equal(got, data) {
			t.Fatalf("size %d: downloaded bytes differ", size)
		}
		st, err := c.Stat(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.GetFile().GetSlices()) != slice.Count(uint64(size), ss) {
			t.Fatalf("size %d: %d slices", size, len(st.GetFile().GetSlices()))
		}
		for _, sl := range st.GetSlices() {
			regions := map[string]bool{}
			for _, r := range sl.GetReplicas() {
				regions[cl.Nodes[cl.NodeIndex(r)].Region] = true
			}
			if len(sl.GetReplicas()) != 3 || len(regions) != 3 {
				t.Fatalf("slice %s: replicas %v in %d regions, want 3 in 3", sl.GetId(), sl.GetReplicas(), len(regions))
			}
		}
		if byID := get(t, c, st.GetFile().GetFileId()); !bytes.Equal(byID, data) {
			t.Fatalf("size %d: get by file ID differs", size)
		}
	}
	// Same content elsewhere: same file ID (whitepaper §4.2.2).
	data := randomBytes(2, 4096) // the content of /round/4096.bin
	put(t, c, "/copy/again.bin", data)
	a, _ := c.Stat(context.Background(), "/round/4096.bin")
	b, _ := c.Stat(context.Background(), "/copy/again.bin")
	if a.GetFile().GetFileId() != b.GetFile().GetFileId() {
		t.Fatal("identical content, different file IDs")
	}
	entries, err := c.List(context.Background(), "/")
	if err != nil || len(entries) != 2 || !entries[0].GetDir() {
		t.Fatalf("ls / = %v, %v; want the two directories", entries, err)
	}
}

// The bad inputs: each gets a clear error and changes nothing.
func TestBadInput(t *testing.T) {
	opts := cluster.DefaultOptions()
	opts.Capacity = 8 << 20
	cl := cluster.Start(t, opts)
	c := cl.Client()
	ctx := context.Background()
	data := randomBytes(1, 1000)
	put(t, c, "/a/file", data)

	_, err := c.Put(ctx, "/a/file", bytes.NewReader(data), 1000, client.PutOptions{})
	if !errors.Is(err, client.ErrExists) {
		t.Errorf("put over an existing path: %v, want ErrExists", err)
	}
	other := randomBytes(2, 500)
	if _, err := c.Put(ctx, "/a/file", bytes.NewReader(other), 500, client.PutOptions{Overwrite: true}); err != nil {
		t.Errorf("put --overwrite: %v", err)
	} else if got := get(t, c, "/a/file"); !bytes.Equal(got, other) {
		t.Error("overwrite kept the old content")
	}
	for _, p := range []string{"/a/../etc/passwd", "relative", "/a//b", "/a/./b", "/", ""} {
		if _, err := c.Put(ctx, p, bytes.NewReader(data), 1000, client.PutOptions{}); !errors.Is(err, client.ErrInvalid) {
			t.Errorf("put %q: %v, want ErrInvalid", p, err)
		}
	}
	// Larger than the network's free space (6 nodes × 8 MiB, 3 replicas).
	huge := int64(20 << 20)
	if _, err := c.Put(ctx, "/big", io.LimitReader(zeros{}, huge), huge, client.PutOptions{}); !errors.Is(err, client.ErrNoSpace) {
		t.Errorf("put larger than the network: %v, want ErrNoSpace", err)
	}
	if _, err := c.Get(ctx, "/missing", io.Discard, client.GetOptions{}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("get a missing file: %v, want ErrNotFound", err)
	}
	if _, err := c.Remove(ctx, "/missing"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("rm a missing file: %v, want ErrNotFound", err)
	}
	// The reader yields fewer bytes than announced: nothing is committed.
	if _, err := c.Put(ctx, "/short", bytes.NewReader(data[:10]), 1000, client.PutOptions{}); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("short reader: %v, want ErrInvalid", err)
	}
	if _, err := c.Stat(ctx, "/short"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("a failed upload left a visible file: %v", err)
	}
	entries, _ := c.List(ctx, "/")
	if len(entries) != 1 {
		t.Errorf("ls / after bad input: %d entries, want only /a", len(entries))
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// whitepaper §4.2.5, DESIGN §6.3: a corrupt replica on disk is skipped for
// the next holder, reported, and repaired back to R good copies.
func TestCorruptReplicaRepaired(t *testing.T) {
	cl := cluster.Start(t, cluster.DefaultOptions())
	c := cl.Client()
	data := randomBytes(5, 600<<10)
	put(t, c, "/c.bin", data)
	st, _ := c.Stat(context.Background(), "/c.bin")
	victim := st.GetSlices()[0]
	// Corrupt the copy of the holder the meta node assigns to downloads of
	// this slice in this period (whitepaper §3.2.2), so the next read hits it.
	req := &metav1.LocateRequest{Owner: cluster.Owner, Path: "/c.bin", ReceiptKey: make([]byte, 32)}
	if err := account.Sign(req, cluster.Signer, time.Now()); err != nil {
		t.Fatal(err)
	}
	loc, err := cl.Meta().Locate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	assigned := loc.GetSlices()[0].GetHolders()[0].GetNodeId()
	node := cl.NodeIndex(assigned)
	corrupted := 0
	for _, f := range cl.SliceFiles(node) {
		if bytes.Contains([]byte(f), []byte(victim.GetId()[len("sha256-"):])) {
			// Rot the bytes in one step (same size, renamed over), as a bad
			// disk would: a truncate-then-write could be caught half done.
			tmp := f + ".rot"
			if err := os.WriteFile(tmp, bytes.Repeat([]byte{0xEE}, int(victim.GetSize())), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, f); err != nil {
				t.Fatal(err)
			}
			corrupted++
		}
	}
	if corrupted != 1 {
		t.Fatalf("found %d files for slice %s on node %d", corrupted, victim.GetId(), node)
	}
	// Holders come in random order: read until a download has hit the
	// corrupt one, reported it and the meta node dropped it; every read must
	// return the right bytes meanwhile.
	cl.Eventually(15*time.Second, func() error {
		if got := get(t, c, "/c.bin"); !bytes.Equal(got, data) {
			t.Fatal("download returned corrupt bytes")
		}
		st, err := c.Stat(context.Background(), "/c.bin")
		if err != nil {
			return err
		}
		reps := st.GetSlices()[0].GetReplicas()
		for _, r := range reps {
			if r == assigned {
				return fmt.Errorf("corrupt holder still listed: %v", reps)
			}
		}
		return nil
	})
	cl.Eventually(15*time.Second, func() error {
		st, err := c.Stat(context.Background(), "/c.bin")
		if err != nil {
			return err
		}
		if reps := st.GetSlices()[0].GetReplicas(); len(reps) < 3 {
			return fmt.Errorf("%d replicas, want 3", len(reps))
		}
		return nil
	})
}

// DESIGN §5.4: when a node dies, its slices are copied to others until each
// has R live replicas again; the file survives losing two more nodes.
func TestDeadNodeRepaired(t *testing.T) {
	cl := cluster.Start(t, cluster.DefaultOptions())
	c := cl.Client()
	data := randomBytes(6, 1<<20+3)
	put(t, c, "/r.bin", data)
	st, _ := c.Stat(context.Background(), "/r.bin")
	dead := cl.NodeIndex(st.GetSlices()[0].GetReplicas()[0])
	cl.StopNode(dead)
	deadID := cl.Nodes[dead].Key.ID()
	cl.Eventually(20*time.Second, func() error {
		st, err := c.Stat(context.Background(), "/r.bin")
		if err != nil {
			return err
		}
		for _, sl := range st.GetSlices() {
			live := 0
			for _, r := range sl.GetReplicas() {
				if r != deadID {
					live++
				}
			}
			if live < 3 {
				return fmt.Errorf("slice %s: %d live replicas", sl.GetId(), live)
			}
		}
		return nil
	})
	// Stop two more holders of slice 0: one replica is left and enough.
	st, _ = c.Stat(context.Background(), "/r.bin")
	stopped := 0
	for _, r := range st.GetSlices()[0].GetReplicas() {
		if i := cl.NodeIndex(r); r != deadID && cl.Running(i) && stopped < 2 {
			cl.StopNode(i)
			stopped++
		}
	}
	if got := get(t, c, "/r.bin"); !bytes.Equal(got, data) {
		t.Fatal("download after losing nodes differs")
	}
}

// DESIGN §6.2 step 4: a resource node that dies during an upload is replaced
// and the upload succeeds with every slice fully replicated.
func TestNodeDiesDuringUpload(t *testing.T) {
	cl := cluster.Start(t, cluster.DefaultOptions())
	c := cl.Client()
	data := randomBytes(7, 8<<20)
	pr, pw := io.Pipe()
	go func() {
		pw.Write(data[:2<<20])
		cl.StopNode(0) // mid-upload
		pw.Write(data[2<<20:])
		pw.Close()
	}()
	if _, err := c.Put(context.Background(), "/mid.bin", pr, int64(len(data)), client.PutOptions{}); err != nil {
		t.Fatalf("upload with a node dying: %v", err)
	}
	if got := get(t, c, "/mid.bin"); !bytes.Equal(got, data) {
		t.Fatal("downloaded bytes differ")
	}
	st, _ := c.Stat(context.Background(), "/mid.bin")
	for _, sl := range st.GetSlices() {
		if len(sl.GetReplicas()) < 2 {
			t.Fatalf("slice %s committed with %d replicas", sl.GetId(), len(sl.GetReplicas()))
		}
	}
}

// DESIGN §6.2 step 5: a meta node restarted during an upload leaves either a
// complete file or none, never a partial one; and the index survives.
func TestMetaRestartDuringUpload(t *testing.T) {
	cl := cluster.Start(t, cluster.DefaultOptions())
	c := cl.Client()
	put(t, c, "/before.bin", randomBytes(8, 300<<10))
	data := randomBytes(9, 4<<20)
	pr, pw := io.Pipe()
	go func() {
		pw.Write(data[:1<<20])
		cl.StopMeta()
		cl.StartMeta()
		pw.Write(data[1<<20:])
		pw.Close()
	}()
	_, err := c.Put(context.Background(), "/during.bin", pr, int64(len(data)), client.PutOptions{})
	if err == nil {
		if got := get(t, c, "/during.bin"); !bytes.Equal(got, data) {
			t.Fatal("upload succeeded but the file differs")
		}
	} else if _, serr := c.Stat(context.Background(), "/during.bin"); !errors.Is(serr, client.ErrNotFound) {
		t.Fatalf("upload failed (%v) but left a visible file: %v", err, serr)
	}
	if got := get(t, c, "/before.bin"); len(got) != 300<<10 {
		t.Fatal("file from before the restart lost")
	}
}

// Removing a file deletes its slices from the nodes, unless another file
// shares them.
func TestRemoveDeletesSlices(t *testing.T) {
	cl := cluster.Start(t, cluster.DefaultOptions())
	c := cl.Client()
	shared := randomBytes(10, 256<<10)
	put(t, c, "/one", shared)
	put(t, c, "/two", shared)
	if _, err := c.Remove(context.Background(), "/one"); err != nil {
		t.Fatal(err)
	}
	if got := get(t, c, "/two"); !bytes.Equal(got, shared) {
		t.Fatal("removing one file broke its twin")
	}
	if _, err := c.Remove(context.Background(), "/two"); err != nil {
		t.Fatal(err)
	}
	cl.Eventually(10*time.Second, func() error {
		n := 0
		for i := range cl.Nodes {
			n += len(cl.SliceFiles(i))
		}
		if n != 0 {
			return fmt.Errorf("%d slice files left on the nodes", n)
		}
		return nil
	})
}
