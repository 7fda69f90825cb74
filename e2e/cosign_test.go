package e2e

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stratos-net/stratos/internal/cluster"
	"github.com/stratos-net/stratos/meta"
	"github.com/stratos-net/stratos/traffic"
)

// chainOf plays x/pot for the meta cluster: it keeps the reports with the
// signatures that verify over the sign bytes.
type chainOf struct {
	mu      sync.Mutex
	keys    map[string]ed25519.PublicKey
	reports []signedReport
}

type signedReport struct {
	period  uint64
	report  traffic.Report
	signers map[string]bool
}

// reporter is meta node i's Reporter; a liar signs other bytes than the
// others, as a replica whose report differs would.
type reporter struct {
	c    *chainOf
	liar bool
}

func (r reporter) SignBytes(period uint64, rep traffic.Report) []byte {
	if r.liar {
		rep.Users = append(rep.Users, traffic.Volume{ID: "st1forged", Bytes: 1})
	}
	return fmt.Appendf(nil, "test-chain/%d/%v", period, rep)
}

func (r reporter) ReportVolume(_ context.Context, period uint64, rep traffic.Report, sigs []traffic.Signature) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	msg := reporter{c: r.c}.SignBytes(period, rep)
	ok := map[string]bool{}
	for _, s := range sigs {
		if pub, known := r.c.keys[s.Signer]; known && ed25519.Verify(pub, msg, s.Sig) {
			ok[s.Signer] = true
		}
	}
	r.c.reports = append(r.c.reports, signedReport{period: period, report: rep, signers: ok})
	return nil
}

// DESIGN §7: at a period's end every authority builds the report from its
// own replica at the same log position and signs it; the leader gathers
// the signatures and submits one report. A replica whose report differs
// does not sign it.
func TestReportCosignedByTheCluster(t *testing.T) {
	chain := &chainOf{keys: map[string]ed25519.PublicKey{}}
	opts := cluster.DefaultOptions()
	opts.Metas = 3
	opts.Meta = func(i int, cfg *meta.Config) {
		cfg.Reporter = reporter{c: chain, liar: i == 2}
		cfg.LedgerPeriod = 500 * time.Millisecond
	}
	cl := cluster.Start(t, opts)
	for _, m := range cl.Metas {
		chain.keys[m.Key.ID()] = m.Key.Public()
	}
	liar := cl.Metas[2].Key.ID()
	c := cl.Client()
	put(t, c, "/paid.bin", randomBytes(3, 600<<10))

	var got signedReport
	cl.Eventually(15*time.Second, func() error {
		chain.mu.Lock()
		defer chain.mu.Unlock()
		for _, r := range chain.reports {
			if len(r.report.Nodes) > 0 {
				got = r
				return nil
			}
		}
		return fmt.Errorf("%d reports, none with traffic", len(chain.reports))
	})
	leader := cl.Metas[cl.Leader()].Key.ID()
	want := 2 // the honest two
	if leader == liar {
		want = 0 // a lying leader's report: the others refuse to sign it, and its own signature is over other bytes
	}
	if len(got.signers) != want || got.signers[liar] {
		t.Fatalf("report of period %d signed validly by %v (leader %s, liar %s), want %d honest signers", got.period, got.signers, leader[:8], liar[:8], want)
	}
}
