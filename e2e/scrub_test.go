package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/internal/cluster"
	"github.com/stratos-net/stratos/resource/storetest"
	"github.com/stratos-net/stratos/slice"
)

func TestScrubRepairsRottenReplicaInCluster(t *testing.T) {
	// DESIGN §5.4: a replica that rots where nobody reads it is found by its
	// holder's scrubber, leaves the index and is repaired back to R good
	// copies, without a single download. A node scrubs when it starts, so
	// restarting the holder runs the pass.
	if testing.Short() {
		t.Skip("runs a meta node and six resource nodes")
	}
	cl := cluster.Start(t, cluster.DefaultOptions())
	c := cl.Client()
	ctx := context.Background()
	data, _ := storetest.Data(80, 300<<10)
	if _, err := c.Put(ctx, "/scrub.bin", bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	st, err := c.Stat(ctx, "/scrub.bin")
	if err != nil {
		t.Fatal(err)
	}
	victim := st.GetSlices()[0]
	id, err := slice.ParseID(victim.GetId())
	if err != nil {
		t.Fatal(err)
	}
	holder := cl.NodeIndex(victim.GetReplicas()[0])
	file := func(i int) string {
		return filepath.Join(cl.Nodes[i].Dir, "slices", id.Hex()[:2], id.Hex())
	}

	cl.StopNode(holder)
	rot(t, file(holder))
	cl.StartNode(holder)

	cl.Eventually(20*time.Second, func() error {
		st, err := c.Stat(ctx, "/scrub.bin")
		if err != nil {
			return err
		}
		reps := st.GetSlices()[0].GetReplicas()
		if len(reps) < 3 {
			return fmt.Errorf("%d replicas, want 3", len(reps))
		}
		// The holder may be placed again, with a good copy.
		for _, r := range reps {
			b, err := os.ReadFile(file(cl.NodeIndex(r)))
			if err != nil {
				return err
			}
			if slice.Sum(b) != id {
				return fmt.Errorf("replica on node %d is corrupt", cl.NodeIndex(r))
			}
		}
		return nil
	})
	if !quarantined(t, cl.Nodes[holder].Dir, id) {
		t.Error("the rotten copy is not in the holder's quarantine")
	}
	var got bytes.Buffer
	if _, err := c.Get(ctx, "/scrub.bin", &got, client.GetOptions{}); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("download after repair: %v, bytes equal %v", err, bytes.Equal(got.Bytes(), data))
	}
}

// rot flips one bit in the middle of the file at path, keeping its size:
// only its hash can tell.
func rot(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// quarantined reports whether the node with data dir dir set slice id aside.
func quarantined(t testing.TB, dir string, id slice.ID) bool {
	t.Helper()
	q, err := os.ReadDir(filepath.Join(dir, "quarantine"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range q {
		if strings.HasPrefix(e.Name(), id.Hex()) {
			return true
		}
	}
	return false
}
