package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/internal/cluster"
	"github.com/stratos-net/stratos/resource/disk"
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
	storetest.Rot(t, file(holder))
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
	if !storetest.Quarantined(t, disk.QuarantineDir(cl.Nodes[holder].Dir), id) {
		t.Error("the rotten copy is not in the holder's quarantine")
	}
	var got bytes.Buffer
	if _, err := c.Get(ctx, "/scrub.bin", &got, client.GetOptions{}); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("download after repair: %v, bytes equal %v", err, bytes.Equal(got.Bytes(), data))
	}
}
