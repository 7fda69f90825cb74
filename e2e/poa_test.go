package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stratos-net/stratos/internal/cluster"
	"github.com/stratos-net/stratos/meta"
	"github.com/stratos-net/stratos/meta/poa"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/wire"
)

// Whitepaper §3.3, DESIGN §5.2: at each master term's end the authorities
// vote, every one learns the same winner, the top-ranked voter by its
// derived number, and the leader hands leadership to it.
func TestPoARoundElectsTheLeader(t *testing.T) {
	opts := cluster.DefaultOptions()
	opts.Metas = 3
	opts.Meta = func(_ int, cfg *meta.Config) { cfg.MasterTerm = 2 * time.Second }
	cl := cluster.Start(t, opts)
	var ids []string
	for _, m := range cl.Metas {
		ids = append(ids, m.Key.ID())
	}
	cl.Eventually(20*time.Second, func() error {
		rounds := map[uint64]string{}
		var term uint64
		for _, m := range cl.Metas {
			st, err := statusOf(m)
			if err != nil {
				return err
			}
			r := st.GetSelf().GetLastRound()
			if r == nil {
				return fmt.Errorf("%s: no round decided yet", m.Key.ID()[:8])
			}
			rounds[r.GetTerm()] = r.GetWinner()
			term = r.GetTerm()
		}
		if len(rounds) != 1 {
			return fmt.Errorf("the meta nodes last decided different rounds: %v", rounds)
		}
		winner := rounds[term]
		if want := topRanked(ids, term); winner != want {
			t.Fatalf("term %d: the round elected %s, the top-ranked voter is %s", term, winner, want)
		}
		if leader := cl.Metas[cl.Leader()].Key.ID(); leader != winner {
			return fmt.Errorf("term %d won by %s, %s leads", term, winner[:8], leader[:8])
		}
		return nil
	})
}

// topRanked is the voter whose derived number wins the round (larger
// number, then larger address): with no chain, the block hash is the one
// every node derives from the term.
func topRanked(ids []string, term uint64) string {
	vote := func(id string) poa.Vote {
		return poa.Vote{Candidate: id, Number: poa.Number(meta.NoChainBlockHash(term), term, id)}
	}
	best := ids[0]
	for _, id := range ids[1:] {
		if poa.Better(vote(id), vote(best)) {
			best = id
		}
	}
	return best
}

func statusOf(m *cluster.MetaNode) (*metav1.StatusResponse, error) {
	conn, err := wire.Dial(m.Addr, m.Key.ID())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return metav1.NewMetaServiceClient(conn).Status(ctx, &metav1.StatusRequest{Local: true})
}
