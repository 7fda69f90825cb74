package meta

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stratos-net/stratos/meta/index"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	"github.com/stratos-net/stratos/traffic"
	"github.com/stratos-net/stratos/wire"
)

// ErrReportDiffers: the report a leader asked this authority to sign is not
// the one its own replica sealed, so it does not sign (DESIGN §7: a meta
// node that signs a report that differs from the others' is not counted).
var ErrReportDiffers = errors.New("the report differs from this replica's")

// signWait bounds how long the signing round waits for each authority:
// one that lags or is down is left out, and the chain counts the others.
const signWait = 5 * time.Second

// gatherSignatures signs the sealed report of period and asks every other
// member of the cluster for its signature over the same sign bytes; those
// that do not answer in time are left out (DESIGN §7: "the leader gathers
// the signatures and submits one report").
func (s *Server) gatherSignatures(ctx context.Context, period uint64, r traffic.Report) []traffic.Signature {
	msg := s.cfg.Reporter.SignBytes(period, r)
	sigs := []traffic.Signature{{Signer: s.ID(), Sig: s.key.Sign(msg)}}
	members, err := s.raft.Members()
	if err != nil {
		s.log.Warn("cannot list the cluster to gather report signatures", "err", err)
		return sigs
	}
	digest := sha256.Sum256(msg)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range members {
		p, ok := s.peers.get(m.ID)
		if m.ID == s.ID() || !ok {
			continue
		}
		wg.Go(func() {
			sig, err := s.askSignature(ctx, p, period, digest[:])
			if err != nil {
				s.log.Warn("meta node did not sign the period's report", "node_id", p.ID, "period", period, "err", err)
				return
			}
			mu.Lock()
			sigs = append(sigs, sig)
			mu.Unlock()
		})
	}
	wg.Wait()
	return sigs
}

func (s *Server) askSignature(ctx context.Context, p Peer, period uint64, digest []byte) (traffic.Signature, error) {
	conn, err := s.peers.conn(p.ID, s.key)
	if err != nil {
		return traffic.Signature{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, signWait)
	defer cancel()
	resp, err := metav1.NewMetaServiceClient(conn).SignReport(ctx, &metav1.SignReportRequest{Period: period, ReportDigest: digest})
	if err != nil {
		return traffic.Signature{}, err
	}
	if resp.GetMetaNodeId() != p.ID {
		return traffic.Signature{}, fmt.Errorf("asked %s, answered for %s", p.ID, resp.GetMetaNodeId())
	}
	return traffic.Signature{Signer: p.ID, Sig: resp.GetSignature()}, nil
}

// SignReport signs the sealed report of a period from this node's own
// replica, once its log has reached the seal, if it is the report the
// leader means.
func (s *Server) SignReport(ctx context.Context, req *metav1.SignReportRequest) (*metav1.SignReportResponse, error) {
	caller, ok := wire.PeerID(ctx)
	if !ok || !s.isAuthority(caller) {
		return nil, toStatus(fmt.Errorf("%w: only a meta authority asks for report signatures", ErrNotAuthority))
	}
	if s.cfg.Reporter == nil {
		return nil, toStatus(fmt.Errorf("%w: this meta node reports to no chain", ErrChainDown))
	}
	r, err := s.waitSealed(ctx, req.GetPeriod())
	if err != nil {
		return nil, toStatus(err)
	}
	msg := s.cfg.Reporter.SignBytes(req.GetPeriod(), reportFromProto(r))
	if d := sha256.Sum256(msg); !bytes.Equal(d[:], req.GetReportDigest()) {
		return nil, toStatus(fmt.Errorf("%w: period %d", ErrReportDiffers, req.GetPeriod()))
	}
	return &metav1.SignReportResponse{MetaNodeId: s.ID(), Signature: s.key.Sign(msg)}, nil
}

// waitSealed returns the sealed report of period once this replica has
// applied the seal.
func (s *Server) waitSealed(ctx context.Context, period uint64) (*metav1.TrafficReport, error) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := s.ix.SealedReport(period)
		if !errors.Is(err, index.ErrNotFound) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("period %d not sealed here: %w", period, ctx.Err())
		case <-t.C:
		}
	}
}
