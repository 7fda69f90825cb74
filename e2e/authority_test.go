package e2e

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/internal/cluster"
	"github.com/stratos-net/stratos/meta"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// registry is a chain's meta registry (x/register) the test edits.
type registry struct {
	mu              sync.Mutex
	active, pending map[string][]byte
}

func (r *registry) MetaNodes(context.Context) (active, pending map[string][]byte, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := func(m map[string][]byte) map[string][]byte {
		out := make(map[string][]byte, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return cp(r.active), cp(r.pending), nil
}

func (r *registry) set(f func(r *registry)) { r.mu.Lock(); f(r); r.mu.Unlock() }

// Issue 7, DESIGN §5.2 (whitepaper §3.3: "registered meta nodes that are
// not voters are Observing"): a meta node registered on chain and not yet
// voted in joins the running cluster as an observer and replicates the
// index; once the authorities admit it on chain the leader makes it a
// voter; once they vote it out it leaves the log.
func TestMetaJoinsAsObserverUntilAdmittedOnChain(t *testing.T) {
	reg := &registry{active: map[string][]byte{}, pending: map[string][]byte{}}
	opts := cluster.DefaultOptions()
	opts.Metas = 4
	var founders []meta.Peer
	opts.Meta = func(i int, cfg *meta.Config) {
		cfg.Authorities, cfg.ChainRefresh = reg, 100*time.Millisecond
		if founders == nil {
			founders = cfg.Peers[:3]
		}
		if i < 3 {
			cfg.Peers = founders // the cluster is started by the first three
			return
		}
		cfg.Bootstrap = false // the fourth joins it
	}
	cl := cluster.Start(t, opts)
	joiner := cl.Metas[3].Key.ID()
	reg.set(func(r *registry) {
		for _, m := range cl.Metas[:3] {
			r.active[m.Key.ID()] = m.Key.Public()
		}
		r.pending[joiner] = cl.Metas[3].Key.Public()
	})
	member := func() (*metav1.MetaNodeStatus, error) {
		st, err := cl.Meta().Status(context.Background(), &metav1.StatusRequest{})
		if err != nil {
			return nil, err
		}
		for _, m := range st.GetMetaNodes() {
			if m.GetNodeId() == joiner {
				return m, nil
			}
		}
		return nil, nil
	}
	cl.Eventually(20*time.Second, func() error {
		m, err := member()
		switch {
		case err != nil:
			return err
		case m == nil:
			return fmt.Errorf("%s not a member yet", joiner)
		case m.GetVoter() || m.GetState() != "Observing":
			return fmt.Errorf("pending on chain, yet %s (voter %v)", m.GetState(), m.GetVoter())
		}
		return nil
	})

	// As an observer it replicates the index.
	data := bytes.Repeat([]byte("observed "), 4096)
	c := cl.Client()
	if _, err := c.Put(context.Background(), "/observed", bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	cl.Eventually(10*time.Second, func() error {
		_, err := cl.Index(3).File(cluster.Owner, "/observed")
		return err
	})

	reg.set(func(r *registry) { delete(r.pending, joiner); r.active[joiner] = cl.Metas[3].Key.Public() })
	cl.Eventually(10*time.Second, func() error {
		m, err := member()
		if err != nil || m == nil || !m.GetVoter() {
			return fmt.Errorf("admitted on chain, yet %v (%v)", m, err)
		}
		return nil
	})

	reg.set(func(r *registry) { delete(r.active, joiner) })
	cl.Eventually(10*time.Second, func() error {
		m, err := member()
		if err != nil || m != nil {
			return fmt.Errorf("voted out on chain, yet %v (%v)", m, err)
		}
		return nil
	})
	// The cluster goes on without it.
	if _, err := c.Put(context.Background(), "/after", bytes.NewReader(data), int64(len(data)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}
