package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/internal/cluster"
)

// Issue 7, DESIGN §5.2: kill the meta leader during a stream of uploads.
// Every upload the client saw acknowledged is readable byte for byte and is
// in every meta node's index afterwards; nothing unacknowledged is
// half-visible; and uploads go on under the new leader.
func TestMetaLeaderFailoverDuringUploads(t *testing.T) {
	opts := cluster.DefaultOptions()
	opts.Metas = 3
	cl := cluster.Start(t, opts)
	old := cl.Leader()

	type upload struct {
		path string
		data []byte
		err  error
	}
	var (
		mu      sync.Mutex
		uploads []upload
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 3 {
		c := cl.Client()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := upload{path: fmt.Sprintf("/w%d/f%d", w, i), data: randomBytes(uint64(w*1000+i), 100<<10+i*1000)}
				_, u.err = c.Put(context.Background(), u.path, bytes.NewReader(u.data), int64(len(u.data)), client.PutOptions{})
				mu.Lock()
				uploads = append(uploads, u)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Second) // uploads under the first leader
	cl.StopMetaNode(old)
	killed := time.Now()
	next := cl.Leader()
	t.Logf("meta node %d took over %v after the leader stopped", next, time.Since(killed).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // uploads under the new leader
	close(stop)
	wg.Wait()

	c := cl.Client()
	var acked int
	for _, u := range uploads {
		if u.err != nil {
			// A failed upload leaves no file (DESIGN §6.2 step 5).
			if _, err := c.Stat(context.Background(), u.path); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("upload of %s failed (%v) but left a visible file: %v", u.path, u.err, err)
			}
			continue
		}
		acked++
		if got := get(t, c, u.path); !bytes.Equal(got, u.data) {
			t.Fatalf("%s: acknowledged, read back different bytes", u.path)
		}
	}
	if acked == 0 {
		t.Fatal("no upload was acknowledged")
	}
	cl.StartMetaNode(old)
	// Every meta node's index holds every acknowledged file.
	cl.Eventually(15*time.Second, func() error {
		for i := range cl.Metas {
			for _, u := range uploads {
				if u.err != nil {
					continue
				}
				if _, err := cl.Index(i).File(cluster.Owner, u.path); err != nil {
					return fmt.Errorf("meta node %d: %s: %w", i, u.path, err)
				}
			}
		}
		return nil
	})
	// And the replicas agree: the same index root everywhere.
	cl.Eventually(15*time.Second, func() error {
		var want []byte
		for i := range cl.Metas {
			root, err := cl.Index(i).Root()
			if err != nil {
				return err
			}
			if want == nil {
				want = root
			} else if !bytes.Equal(root, want) {
				return fmt.Errorf("meta node %d has root %x, meta node 0 %x", i, root[:6], want[:6])
			}
		}
		return nil
	})
	t.Logf("%d uploads, %d acknowledged", len(uploads), acked)
}
