package chainclient

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/stratos-net/stratos/app"
	pottypes "github.com/stratos-net/stratos/x/pot/types"
	registertypes "github.com/stratos-net/stratos/x/register/types"
	sdstypes "github.com/stratos-net/stratos/x/sds/types"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

// View queries one validator's gRPC endpoint.
type View struct {
	conn *grpc.ClientConn
	reg  registertypes.QueryClient
	sds  sdstypes.QueryClient
	pot  pottypes.QueryClient
	fn   trustedfntypes.QueryClient
}

// Dial connects to a validator's gRPC endpoint (host:port, app.toml [grpc]).
// The endpoint is the operator's own validator, on loopback or a private
// network; queries carry no secret.
func Dial(addr string) (*View, error) {
	tmp := app.NewCodecApp()
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(tmp.InterfaceRegistry()).GRPCCodec())))
	if err != nil {
		return nil, fmt.Errorf("chain endpoint %s: %w", addr, err)
	}
	return &View{conn: conn, reg: registertypes.NewQueryClient(conn), sds: sdstypes.NewQueryClient(conn), pot: pottypes.NewQueryClient(conn), fn: trustedfntypes.NewQueryClient(conn)}, nil
}

// Close closes the connection.
func (v *View) Close() error { return v.conn.Close() }

// ActiveResourceNodes returns every registered, active resource node: node
// ID to ed25519 public key.
func (v *View) ActiveResourceNodes(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := v.activeResourceNodes(ctx, func(n registertypes.ResourceNode) { out[n.NodeId] = n.PublicKey })
	return out, err
}

// ResourceCapacities returns the capacity every active resource node
// registered, in bytes.
func (v *View) ResourceCapacities(ctx context.Context) (map[string]uint64, error) {
	out := map[string]uint64{}
	err := v.activeResourceNodes(ctx, func(n registertypes.ResourceNode) { out[n.NodeId] = n.Capacity })
	return out, err
}

func (v *View) activeResourceNodes(ctx context.Context, fn func(registertypes.ResourceNode)) error {
	var next []byte
	for {
		resp, err := v.reg.ResourceNodes(ctx, &registertypes.QueryResourceNodesRequest{Pagination: &query.PageRequest{Key: next, Limit: 500}})
		if err != nil {
			return fmt.Errorf("chain: list resource nodes: %w", err)
		}
		for _, n := range resp.Nodes {
			if n.Status == registertypes.NodeStatus_NODE_STATUS_ACTIVE {
				fn(n)
			}
		}
		if resp.Pagination == nil || len(resp.Pagination.NextKey) == 0 {
			return nil
		}
		next = resp.Pagination.NextKey
	}
}

// MetaNodes returns the registered meta nodes (DESIGN §5.2): those voted
// in (active) and those waiting for the votes (pending), node ID to
// ed25519 public key.
func (v *View) MetaNodes(ctx context.Context) (active, pending map[string][]byte, err error) {
	active, pending = map[string][]byte{}, map[string][]byte{}
	var next []byte
	for {
		resp, err := v.reg.MetaNodes(ctx, &registertypes.QueryMetaNodesRequest{Pagination: &query.PageRequest{Key: next, Limit: 500}})
		if err != nil {
			return nil, nil, fmt.Errorf("chain: list meta nodes: %w", err)
		}
		for _, n := range resp.Nodes {
			switch n.Status {
			case registertypes.NodeStatus_NODE_STATUS_ACTIVE:
				active[n.NodeId] = n.PublicKey
			case registertypes.NodeStatus_NODE_STATUS_PENDING:
				pending[n.NodeId] = n.PublicKey
			}
		}
		if resp.Pagination == nil || len(resp.Pagination.NextKey) == 0 {
			return active, pending, nil
		}
		next = resp.Pagination.NextKey
	}
}

// Prepaid returns the ustos an account has prepaid for traffic and storage.
func (v *View) Prepaid(ctx context.Context, owner string) (uint64, error) {
	resp, err := v.sds.Prepaid(ctx, &sdstypes.QueryPrepaidRequest{Address: owner})
	if err != nil {
		return 0, fmt.Errorf("chain: prepaid balance of %s: %w", owner, err)
	}
	amt := resp.Prepaid.Amount
	if amt.IsNil() || !amt.IsUint64() {
		return 0, nil
	}
	return amt.Uint64(), nil
}

// Period is x/pot's ledger period clock: the period the latest block falls
// in, the last period reported, and the length of a period.
type Period struct {
	Current      uint64
	LastReported uint64
	Reported     bool
	Length       time.Duration
	End          time.Time // of the current period
}

// Period asks x/pot which ledger period the chain is in.
func (v *View) Period(ctx context.Context) (Period, error) {
	r, err := v.pot.Period(ctx, &pottypes.QueryPeriodRequest{})
	if err != nil {
		return Period{}, fmt.Errorf("chain: ledger period: %w", err)
	}
	return Period{Current: r.Current, LastReported: r.LastReported, Reported: r.Reported,
		Length: time.Duration(r.PeriodSeconds) * time.Second, End: time.Unix(r.EndUnix, 0)}, nil
}

// Prices returns x/sds's prices: of traffic, in ustos per GiB, and of
// storage, in ustos per GiB per 30 days.
func (v *View) Prices(ctx context.Context) (traffic, storage uint64, err error) {
	r, err := v.sds.Params(ctx, &sdstypes.QueryParamsRequest{})
	if err != nil {
		return 0, 0, fmt.Errorf("chain: prices: %w", err)
	}
	return r.Params.TrafficPrice, r.Params.StoragePrice, nil
}

// Deposits returns x/register's minimum deposits: of a resource node and of
// a meta node.
func (v *View) Deposits(ctx context.Context) (resource, meta sdk.Coin, err error) {
	r, err := v.reg.Params(ctx, &registertypes.QueryParamsRequest{})
	if err != nil {
		return sdk.Coin{}, sdk.Coin{}, fmt.Errorf("chain: register params: %w", err)
	}
	return r.Params.MinResourceDeposit, r.Params.MinMetaDeposit, nil
}

// NodeTraffic is one resource node's line of a ledger period's report.
type NodeTraffic struct {
	NodeID string
	Bytes  uint64
}

// Report returns the traffic per resource node that the accepted volume
// report of period holds; ok is false if the period has no report.
func (v *View) Report(ctx context.Context, period uint64) (nodes []NodeTraffic, ok bool, err error) {
	r, err := v.pot.Report(ctx, &pottypes.QueryReportRequest{Period: period})
	if status.Code(err) == codes.NotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("chain: volume report of period %d: %w", period, err)
	}
	for _, n := range r.Report.Nodes {
		nodes = append(nodes, NodeTraffic{NodeID: n.NodeId, Bytes: n.Bytes})
	}
	return nodes, true, nil
}

// Rewards returns the rewards credited to a resource node so far, in ustos.
func (v *View) Rewards(ctx context.Context, nodeID string) (string, error) {
	r, err := v.pot.Rewards(ctx, &pottypes.QueryRewardsRequest{NodeIdOrAddress: nodeID})
	if err != nil {
		return "", fmt.Errorf("chain: rewards of %s: %w", nodeID, err)
	}
	if r.Total.IsNil() {
		return "0", nil
	}
	return r.Total.String(), nil
}
