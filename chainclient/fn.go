package chainclient

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"

	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/compute/caller"
	"github.com/stratos-net/stratos/compute/service"
	"github.com/stratos-net/stratos/trust"
	"github.com/stratos-net/stratos/x/trustedfn/round"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

// FnApp is a trusted-function app (x/trustedfn).
func (v *View) FnApp(ctx context.Context, id string) (trustedfntypes.App, error) {
	res, err := v.fn.App(ctx, &trustedfntypes.QueryAppRequest{AppId: id})
	if err != nil {
		return trustedfntypes.App{}, fmt.Errorf("app %s: %w", id, err)
	}
	return res.App, nil
}

// FnApps lists the apps of owner (every app if owner is empty).
func (v *View) FnApps(ctx context.Context, owner string) ([]trustedfntypes.App, error) {
	res, err := v.fn.Apps(ctx, &trustedfntypes.QueryAppsRequest{Owner: owner})
	if err != nil {
		return nil, err
	}
	return res.Apps, nil
}

// FnRounds lists an app's rounds, newest first.
func (v *View) FnRounds(ctx context.Context, app string, limit uint32) ([]trustedfntypes.Round, error) {
	res, err := v.fn.Rounds(ctx, &trustedfntypes.QueryRoundsRequest{AppId: app, Limit: limit})
	if err != nil {
		return nil, err
	}
	return res.Rounds, nil
}

// FnOffers lists the compute offers.
func (v *View) FnOffers(ctx context.Context) ([]trustedfntypes.Offer, error) {
	res, err := v.fn.Offers(ctx, &trustedfntypes.QueryOffersRequest{})
	if err != nil {
		return nil, err
	}
	return res.Offers, nil
}

// ServiceApps is the chain as a node's compute service reads it.
type ServiceApps struct{ View *View }

var _ service.Apps = ServiceApps{}

// App implements service.Apps.
func (s ServiceApps) App(ctx context.Context, id string) (service.App, error) {
	a, err := s.View.FnApp(ctx, id)
	if err != nil {
		return service.App{}, err
	}
	return service.App{CodeHash: a.CodeHash, Nodes: a.Nodes, Active: a.Status == trustedfntypes.AppStatus_APP_STATUS_ACTIVE, Owner: a.Owner}, nil
}

// CallerChain is the chain as a caller reads it: the app's nodes with
// their compute endpoints (x/trustedfn) and keys (x/register).
type CallerChain struct{ View *View }

var _ caller.Chain = CallerChain{}

// App implements caller.Chain.
func (c CallerChain) App(ctx context.Context, id string) (caller.App, error) {
	a, err := c.View.FnApp(ctx, id)
	if err != nil {
		return caller.App{}, err
	}
	if a.Status != trustedfntypes.AppStatus_APP_STATUS_ACTIVE {
		return caller.App{}, fmt.Errorf("%w: %s is %s", caller.ErrNotActive, id, a.Status)
	}
	offers, err := c.View.FnOffers(ctx)
	if err != nil {
		return caller.App{}, err
	}
	endpoint := map[string]string{}
	for _, o := range offers {
		endpoint[o.NodeId] = o.Endpoint
	}
	keys, err := c.View.ActiveResourceNodes(ctx)
	if err != nil {
		return caller.App{}, err
	}
	out := caller.App{ID: id, Agreement: round.Agreement{Num: a.AgreementNum, Den: a.AgreementDen}}
	for _, n := range a.Nodes {
		// A node gone from the registry or its offer still counts against
		// the quorum: it is one of the app's nodes that did not answer.
		out.Nodes = append(out.Nodes, caller.Node{ID: n, Endpoint: endpoint[n], Public: ed25519.PublicKey(keys[n])})
	}
	return out, nil
}

// CreateApp deposits the escrow and asks for nodes (x/trustedfn).
func (s *Sender) CreateApp(ctx context.Context, m *trustedfntypes.MsgCreateApp) error {
	m.Owner = s.from.String()
	return s.send(ctx, m)
}

// TopUpApp adds to an app's escrow.
func (s *Sender) TopUpApp(ctx context.Context, app string, amount sdk.Coins) error {
	return s.send(ctx, &trustedfntypes.MsgTopUp{Owner: s.from.String(), AppId: app, Amount: amount})
}

// StopApp stops an app and refunds its escrow.
func (s *Sender) StopApp(ctx context.Context, app string) error {
	return s.send(ctx, &trustedfntypes.MsgStopApp{Owner: s.from.String(), AppId: app})
}

// From is the sender's account address.
func (s *Sender) From() sdk.AccAddress { return s.from }

// FnRound is one round.
func (v *View) FnRound(ctx context.Context, id uint64) (trustedfntypes.Round, error) {
	res, err := v.fn.Round(ctx, &trustedfntypes.QueryRoundRequest{RoundId: id})
	if err != nil {
		return trustedfntypes.Round{}, fmt.Errorf("round %d: %w", id, err)
	}
	return res.Round, nil
}

// FnNextRound is the ID the next round gets.
func (v *View) FnNextRound(ctx context.Context) (uint64, error) {
	res, err := v.fn.NextRound(ctx, &trustedfntypes.QueryNextRoundRequest{})
	if err != nil {
		return 0, err
	}
	return res.RoundId, nil
}

var (
	_ trust.Chain      = (*View)(nil)
	_ trust.NodeSender = (*Sender)(nil)
	_ trust.AppSender  = (*Sender)(nil)
)

// CommitRound is a node's commit (Steps 3-4), signed by its operator or agent.
func (s *Sender) CommitRound(ctx context.Context, roundID uint64, node string, saltHash, commit []byte) error {
	return s.send(ctx, &trustedfntypes.MsgCommit{Operator: s.from.String(), RoundId: roundID, NodeId: node, NodeSaltHash: saltHash, Commit: commit})
}

// RevealRound is a node's reveal (Step 7).
func (s *Sender) RevealRound(ctx context.Context, roundID uint64, node string, salt, output []byte, usage uint64) error {
	return s.send(ctx, &trustedfntypes.MsgReveal{Operator: s.from.String(), RoundId: roundID, NodeId: node, NodeSalt: salt, OutputHash: output, Usage: usage})
}

// Complain is a node refusing a round whose app salt did not match (§3.5.2).
func (s *Sender) Complain(ctx context.Context, roundID uint64, node string, received []byte) error {
	return s.send(ctx, &trustedfntypes.MsgComplain{Operator: s.from.String(), RoundId: roundID, NodeId: node, Received: received})
}

// OpenRound is the app's Step 1; a refusal because another round took the
// ID is trust.ErrRoundTaken.
func (s *Sender) OpenRound(ctx context.Context, app string, roundID uint64, callHash []byte, saltHashes [][]byte, spot []byte) error {
	err := s.send(ctx, &trustedfntypes.MsgOpenRound{Owner: s.from.String(), AppId: app, RoundId: roundID,
		CallHash: callHash, SaltHashes: saltHashes, Spot: spot})
	var r *Refusal
	if errors.As(err, &r) && r.Code == trustedfntypes.ErrRoundTaken.ABCICode() && strings.Contains(r.Log, "round ID taken") {
		return fmt.Errorf("%w: %w", trust.ErrRoundTaken, err)
	}
	return err
}

// RevealSalts is the app's Step 6.
func (s *Sender) RevealSalts(ctx context.Context, roundID uint64, salts []trustedfntypes.NodeSalt, spotExpected, spotSalt []byte) error {
	return s.send(ctx, &trustedfntypes.MsgRevealSalts{Owner: s.from.String(), RoundId: roundID, Salts: salts,
		SpotExpected: spotExpected, SpotSalt: spotSalt})
}

// Height is the chain's latest block height.
func (v *View) Height(ctx context.Context) (int64, error) {
	res, err := cmtservice.NewServiceClient(v.conn).GetLatestBlock(ctx, &cmtservice.GetLatestBlockRequest{})
	if err != nil {
		return 0, fmt.Errorf("latest block: %w", err)
	}
	if res.SdkBlock != nil {
		return res.SdkBlock.Header.Height, nil
	}
	if res.Block != nil {
		return res.Block.Header.Height, nil
	}
	return 0, errors.New("latest block: empty answer")
}

// FnOpenRounds lists the rounds in progress that node is in.
func (v *View) FnOpenRounds(ctx context.Context, node string) ([]trustedfntypes.Round, error) {
	res, err := v.fn.OpenRounds(ctx, &trustedfntypes.QueryOpenRoundsRequest{NodeId: node})
	if err != nil {
		return nil, err
	}
	return res.Rounds, nil
}

var _ trust.OpenRounds = (*View)(nil)

// MetaChallenges opens storage challenges as a meta node, signed by its
// operator (x/trustedfn, Stratosphere §4.1.6).
type MetaChallenges struct {
	Sender *Sender
	View   *View
	MetaID string
}

// Challenge implements meta.StorageChallenges.
func (c MetaChallenges) Challenge(ctx context.Context, sliceID string, holders []string) (uint64, error) {
	next, err := c.View.FnNextRound(ctx)
	if err != nil {
		return 0, err
	}
	if err := c.Sender.send(ctx, &trustedfntypes.MsgChallengeStorage{Operator: c.Sender.from.String(), MetaNodeId: c.MetaID,
		SliceId: sliceID, Holders: holders}); err != nil {
		return 0, err
	}
	// The round's ID is the next one, unless another round was opened in
	// between: then it is the open challenge of this slice by this node.
	if r, err := c.View.FnRound(ctx, next); err == nil && r.SliceId == sliceID && r.OpenedBy == c.MetaID {
		return next, nil
	}
	open, err := c.View.FnOpenRounds(ctx, "")
	if err != nil {
		return 0, err
	}
	for _, r := range open {
		if r.SliceId == sliceID && r.OpenedBy == c.MetaID {
			return r.Id, nil
		}
	}
	return 0, fmt.Errorf("the challenge of %s is on chain but not found among the open rounds", sliceID)
}

// Outcome implements meta.StorageChallenges.
func (c MetaChallenges) Outcome(ctx context.Context, roundID uint64) (done, proved bool, failed []string, err error) {
	r, err := c.View.FnRound(ctx, roundID)
	if err != nil {
		return false, false, nil, err
	}
	if r.Phase != "done" {
		return false, false, nil, nil
	}
	for _, m := range r.Members {
		if m.Status != "majority" {
			failed = append(failed, m.NodeId)
		}
	}
	return true, r.Result, failed, nil
}
