package keeper

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/x/trustedfn/round"
	"github.com/stratos-net/stratos/x/trustedfn/types"
)

// Bounds on storage challenges.
const (
	maxHolders        = 16
	maxSliceIDLen     = 128
	maxOpenChallenges = 256
	// challengeTimeout is the commit and reveal timeout of a storage
	// challenge, in blocks: reading one slice takes a holder well under a
	// block.
	challengeTimeout = 10
)

// storageAgreement: more than half of a slice's holders must give the same
// proof for it to count; a holder outside that majority failed.
var storageAgreement = round.Agreement{Num: 1, Den: 2}

// ChallengeStorage opens a storage challenge (Stratosphere §4.1.6): every
// holder of the slice must commit and reveal round.StorageProof(challenge,
// the slice's bytes), where the challenge is drawn from this block's hash,
// unknown when the meta node chose the slice. Only an active meta node's
// operator may ask: the meta cluster knows where slices are.
func (k Keeper) ChallengeStorage(ctx context.Context, m *types.MsgChallengeStorage) (uint64, error) {
	sctx := sdk.UnwrapSDKContext(ctx)
	op, err := k.addressCodec.StringToBytes(m.Operator)
	if err != nil {
		return 0, fmt.Errorf("operator: %w", err)
	}
	if !k.reg.IsActiveMetaNodeOperator(ctx, op, m.MetaNodeId) {
		return 0, fmt.Errorf("%w: %s does not operate the active meta node %s", types.ErrNotOperator, m.Operator, m.MetaNodeId)
	}
	if m.SliceId == "" || len(m.SliceId) > maxSliceIDLen {
		return 0, fmt.Errorf("%w: slice ID must be 1 to %d bytes", types.ErrRound, maxSliceIDLen)
	}
	if len(m.Holders) == 0 || len(m.Holders) > maxHolders {
		return 0, fmt.Errorf("%w: 1 to %d holders", types.ErrRound, maxHolders)
	}
	for _, h := range m.Holders {
		if !k.reg.IsResourceNodeActive(ctx, h) {
			return 0, fmt.Errorf("%w: holder %s", types.ErrNodeNotActive, h)
		}
	}
	open := 0
	if err := k.OpenRounds.Walk(ctx, nil, func(uint64) (bool, error) { open++; return open >= maxOpenChallenges, nil }); err != nil {
		return 0, err
	}
	if open >= maxOpenChallenges {
		return 0, fmt.Errorf("%w: %d rounds in progress; challenge again later", types.ErrRound, open)
	}
	id, err := k.nextRoundID(ctx)
	if err != nil {
		return 0, err
	}
	challenge := drawChallenge(sctx.HeaderHash(), id, m.SliceId)
	rid := round.ID{ChainID: sctx.ChainID(), Round: id}
	hashes := make([]round.Hash, len(m.Holders))
	for i, h := range m.Holders {
		hashes[i] = round.SaltHash(rid, h, challenge)
	}
	r, err := round.Open(rid, m.Holders, hashes, nil, storageAgreement, challengeTimeout, challengeTimeout, sctx.BlockHeight())
	if err != nil {
		return 0, fmt.Errorf("%w: %w", types.ErrRound, err)
	}
	if err := k.NextRound.Set(ctx, id+1); err != nil {
		return 0, err
	}
	t := types.Round{
		Id: id, AgreementNum: storageAgreement.Num, AgreementDen: storageAgreement.Den,
		CommitTimeout: challengeTimeout, RevealTimeout: challengeTimeout, OpenedHeight: sctx.BlockHeight(),
		Members: make([]types.Member, len(m.Holders)), SliceId: m.SliceId, Challenge: challenge, OpenedBy: m.MetaNodeId,
	}
	fromRound(r, &t)
	if err := k.saveRound(ctx, nil, t); err != nil {
		return 0, err
	}
	emit(ctx, "storage_challenge", "round_id", strconv.FormatUint(id, 10), "slice_id", m.SliceId)
	return id, k.OpenRounds.Set(ctx, id)
}

// drawChallenge is SHA-256(block hash ‖ round ID ‖ slice ID).
func drawChallenge(blockHash []byte, id uint64, slice string) []byte {
	h := sha256.New()
	h.Write(blockHash)
	h.Write(binary.BigEndian.AppendUint64(nil, id))
	h.Write([]byte(slice))
	return h.Sum(nil)
}

// revealChallenge is Step 6 of a storage challenge, which has no app: once
// the commits close the chain reveals the (public) challenge as every
// committed holder's salt.
func revealChallenge(r *round.Round, t *types.Round, height int64) error {
	salts := map[string][]byte{}
	for _, m := range r.Members {
		salts[m.Node] = t.Challenge
	}
	return r.RevealApp(salts, nil, nil, height)
}

// settleStorage records a storage challenge (§4.1.6): a holder that did
// not prove the slice (missed, stalled, lied or in the minority) has a
// storage failure on its record, and one that lied or stalled is slashed.
// Nobody is paid: storage is paid by x/pot's storage fees, which the meta
// cluster no longer reports for a replica that failed.
func (k Keeper) settleStorage(ctx context.Context, t *types.Round) error {
	p, err := k.GetParams(ctx)
	if err != nil {
		return err
	}
	err = k.eachMember(ctx, t, p.Slashing(), func(m *types.Member, st round.Status, rec *types.NodeRecord) error {
		rec.StorageChallenges++
		if st != round.Majority {
			rec.StorageFailures++
			emit(ctx, "storage_failure", "round_id", strconv.FormatUint(t.Id, 10), "slice_id", t.SliceId,
				"node_id", m.NodeId, "status", m.Status)
		}
		return nil
	})
	if err != nil {
		return err
	}
	t.ClosedHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	return nil
}
