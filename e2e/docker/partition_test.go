//go:build docker

package docker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratos-net/stratos/client"
	inproc "github.com/stratos-net/stratos/internal/cluster"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// Issue 7, DESIGN §5.1–5.2: the meta leader is cut off the cluster network
// (docker network disconnect, a real cut) while clients upload. The
// minority of one refuses writes and stops claiming to lead within a bounded
// time, and commits nothing; the majority elects a new leader and goes on
// acknowledging uploads; once the cut heals, every replica holds the same
// log position and the same index root, and every acknowledged file reads
// back byte for byte. No split brain: at no time do two sides both accept
// writes.
func TestMetaPartitionNoSplitBrain(t *testing.T) {
	requireDocker(t)
	image := sharedImage(t)
	began := time.Now()
	at := func() time.Duration { return time.Since(began).Round(time.Millisecond) }
	c := newCluster(t, randomHex(4), image, 4)
	c.start()
	cl := c.client()
	c.waitAlive(cl, c.nodes, 60*time.Second)
	cut := c.leader(cl, nil, 30*time.Second)
	t.Logf("%s cluster up on %s.0/24, %s leads", at(), c.prefix, cut.name)

	// The majority's client uploads before, during and after the cut.
	up := startUploads(cl, began, 2)
	defer up.stop()
	up.waitAcked(t, 3, time.Minute)

	t.Logf("%s cut: docker network disconnect %s %s", at(), c.network, cut.name)
	mustDocker(t, "network", "disconnect", c.network, cut.name)
	minority := make(chan outcome, 1)
	lone := c.clientOf(cut, 10*time.Second)
	go func() { minority <- upload(lone, "minority", 10_000) }()

	frozen := waitSteppedDown(t, lone, cut, 10*time.Second)
	t.Logf("%s %s no longer claims to lead; its log stops at commit index %d", at(), cut.name, frozen)
	next := c.leader(cl, cut, 30*time.Second)
	elected := time.Since(began)
	t.Logf("%s %s leads the majority", at(), next.name)
	up.waitAckedSince(t, elected, 5, 90*time.Second)
	t.Logf("%s the majority acknowledges uploads", at())
	o := <-minority
	switch {
	case o.err == nil:
		t.Errorf("SPLIT BRAIN: the cut-off meta node acknowledged %s", o.path)
	case !errors.Is(o.err, client.ErrMetaUnavailable):
		t.Errorf("upload to the cut-off meta node failed, but not as unavailable: %v", o.err)
	default:
		t.Logf("%s upload to the cut-off meta node refused: %v", at(), o.err)
	}
	checkFrozen(t, lone, cl, cut, frozen)

	t.Logf("%s heal: docker network connect --ip %s %s %s", at(), cut.ip, c.network, cut.name)
	mustDocker(t, "network", "connect", "--ip", cut.ip, c.network, cut.name)
	acked := up.stop()

	// Healed, the old leader sends its clients to the leader.
	if o := upload(c.clientOf(cut, 45*time.Second), "healed", 20_000); o.err != nil {
		t.Errorf("upload through %s after the cut healed: %v", cut.name, o.err)
	} else {
		acked = append(acked, o)
	}
	applied, root := c.waitConverged(cl, 60*time.Second)
	t.Logf("%s every replica at applied index %d, index root %x", at(), applied, root)

	if _, err := cl.Stat(context.Background(), "/minority/10000.bin"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("the upload the cut-off node refused: stat says %v, want not found", err)
	}
	checkDownloads(t, cl, acked)
	t.Logf("%s done: %d uploads acknowledged (the longest took %s), %d failed (allowed)", at(), len(acked), longest(acked), up.failed())
}

// longest is the longest time an upload of files took.
func longest(files []outcome) time.Duration {
	var d time.Duration
	for _, o := range files {
		d = max(d, o.to-o.from)
	}
	return d.Round(time.Millisecond)
}

// uploads is a set of uploaders working until stopped.
type uploads struct {
	began time.Time
	next  atomic.Int64
	quit  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	mu       sync.Mutex
	outcomes []outcome
}

func startUploads(cl *client.Client, began time.Time, n int) *uploads {
	u := &uploads{began: began, quit: make(chan struct{})}
	for range n {
		u.wg.Go(func() {
			for {
				select {
				case <-u.quit:
					return
				default:
				}
				from := time.Since(began)
				o := upload(cl, "partition", int(u.next.Add(1))-1)
				o.from, o.to = from, time.Since(began)
				u.mu.Lock()
				u.outcomes = append(u.outcomes, o)
				u.mu.Unlock()
			}
		})
	}
	return u
}

// stop waits for the uploads under way and returns the acknowledged ones.
func (u *uploads) stop() []outcome {
	u.once.Do(func() { close(u.quit) })
	u.wg.Wait()
	u.mu.Lock()
	defer u.mu.Unlock()
	var ok []outcome
	for _, o := range u.outcomes {
		if o.err == nil {
			ok = append(ok, o)
		}
	}
	return ok
}

func (u *uploads) failed() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, o := range u.outcomes {
		if o.err != nil {
			n++
		}
	}
	return n
}

// ackedSince counts the acknowledged uploads that began at since or later.
func (u *uploads) ackedSince(since time.Duration) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, o := range u.outcomes {
		if o.err == nil && o.from >= since {
			n++
		}
	}
	return n
}

func (u *uploads) waitAcked(t *testing.T, n int, within time.Duration) {
	t.Helper()
	u.waitAckedSince(t, 0, n, within)
}

func (u *uploads) waitAckedSince(t *testing.T, since time.Duration, n int, within time.Duration) {
	t.Helper()
	inproc.Eventually(t, within, func() error {
		if got := u.ackedSince(since); got < n {
			return fmt.Errorf("%d uploads begun after %s acknowledged, want %d", got, since.Round(time.Millisecond), n)
		}
		return nil
	})
}

// ownStatus is a meta node's own status, asked through a client of it alone.
func ownStatus(lone *client.Client) (*metav1.StatusResponse, error) {
	v := lone.MetaNodes(context.Background())
	if len(v) != 1 {
		return nil, fmt.Errorf("client knows %d meta nodes, want 1", len(v))
	}
	return v[0].Status, v[0].Err
}

// waitSteppedDown waits until the cut-off meta node no longer calls itself
// the leader, and returns its commit index then.
func waitSteppedDown(t *testing.T, lone *client.Client, cut *metaNode, within time.Duration) uint64 {
	t.Helper()
	var commit uint64
	inproc.Eventually(t, within, func() error {
		st, err := ownStatus(lone)
		if err != nil {
			return err
		}
		s := st.GetSelf()
		if s.GetState() == "Leading" || s.GetLeaderId() == cut.id {
			return fmt.Errorf("%s still claims to lead (%s, term %d)", cut.name, s.GetState(), s.GetRaftTerm())
		}
		commit = s.GetCommitIndex()
		return nil
	})
	return commit
}

// checkFrozen: while cut off, the minority commits nothing, and the
// majority commits past it.
func checkFrozen(t *testing.T, lone, cl *client.Client, cut *metaNode, frozen uint64) {
	t.Helper()
	st, err := ownStatus(lone)
	if err != nil {
		t.Fatalf("status of the cut-off %s: %v", cut.name, err)
	}
	if s := st.GetSelf(); s.GetCommitIndex() != frozen || s.GetState() == "Leading" {
		t.Errorf("SPLIT BRAIN: the cut-off %s is %s at commit index %d, was %d when it stepped down", cut.name, s.GetState(), s.GetCommitIndex(), frozen)
	}
	lead, _, err := status(context.Background(), cl)
	if err != nil {
		t.Fatalf("status of the majority's leader: %v", err)
	}
	if got := lead.GetSelf().GetCommitIndex(); got <= frozen {
		t.Errorf("the majority's leader is at commit index %d, not past the minority's %d", got, frozen)
	}
}

// waitConverged waits until every meta node reports, in its own status,
// the same leader, the same applied index and the same index root.
func (c *cluster) waitConverged(cl *client.Client, within time.Duration) (applied uint64, root []byte) {
	c.t.Helper()
	inproc.Eventually(c.t, within, func() error {
		views := cl.MetaNodes(context.Background())
		if len(views) != len(c.metas) {
			return fmt.Errorf("client knows %d meta nodes, want %d", len(views), len(c.metas))
		}
		var first *metav1.StatusResponse
		for _, v := range views {
			if v.Err != nil {
				return fmt.Errorf("meta node %.12s: %w", v.Node.ID, v.Err)
			}
			st, s := v.Status, v.Status.GetSelf()
			if len(st.GetIndexRoot()) == 0 {
				return fmt.Errorf("meta node %.12s reports no index root", v.Node.ID)
			}
			if first == nil {
				first = st
				if s.GetLeaderId() == "" {
					return fmt.Errorf("meta node %.12s knows no leader", v.Node.ID)
				}
				continue
			}
			f := first.GetSelf()
			if s.GetLeaderId() != f.GetLeaderId() || s.GetAppliedIndex() != f.GetAppliedIndex() || !bytes.Equal(st.GetIndexRoot(), first.GetIndexRoot()) {
				return fmt.Errorf("meta node %.12s: leader %.12s, applied %d, root %x; meta node %.12s: leader %.12s, applied %d, root %x",
					v.Node.ID, s.GetLeaderId(), s.GetAppliedIndex(), st.GetIndexRoot(),
					f.GetNodeId(), f.GetLeaderId(), f.GetAppliedIndex(), first.GetIndexRoot())
			}
		}
		applied, root = first.GetSelf().GetAppliedIndex(), first.GetIndexRoot()
		return nil
	})
	return applied, root
}
