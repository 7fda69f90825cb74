package chainclient

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	registertypes "github.com/stratos-net/stratos/x/register/types"
)

// RegisterMetaNode applies for admission of a meta node operated by the
// sender's account (x/register, DESIGN §4, §5.2): the deposit is locked and
// the node is pending until the active meta nodes approve it.
func (s *Sender) RegisterMetaNode(ctx context.Context, pub []byte, addr string, deposit sdk.Coin) error {
	return s.send(ctx, &registertypes.MsgRegisterMetaNode{Operator: s.from.String(), PublicKey: pub, NetworkAddress: addr, Deposit: deposit})
}

// ApproveMetaNode is the vote of the active meta node voterID, which the
// sender's account operates, to admit the pending candidate.
func (s *Sender) ApproveMetaNode(ctx context.Context, voterID, candidateID string) error {
	return s.send(ctx, &registertypes.MsgApproveMetaNode{Voter: s.from.String(), VoterNodeId: voterID, CandidateNodeId: candidateID})
}

// RegisterResourceNode registers a resource node operated by the sender's
// account, active at once (x/register, DESIGN §4).
func (s *Sender) RegisterResourceNode(ctx context.Context, pub []byte, addr string, capacity uint64, region string, deposit sdk.Coin) error {
	return s.send(ctx, &registertypes.MsgRegisterResourceNode{
		Operator: s.from.String(), PublicKey: pub, NetworkAddress: addr, Capacity: capacity, Region: region, Deposit: deposit,
	})
}
