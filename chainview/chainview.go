// Package chainview is the storage network's read-only view of the value layer
// (DESIGN §3, §4): which resource nodes are registered and active in
// x/register, and how much each account has prepaid in x/sds. It asks a
// validator's gRPC endpoint; the meta node decides what to do with the
// answers.
package chainview

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/stratos-net/stratos/app"
	registertypes "github.com/stratos-net/stratos/x/register/types"
	sdstypes "github.com/stratos-net/stratos/x/sds/types"
)

// View queries one validator's gRPC endpoint.
type View struct {
	conn *grpc.ClientConn
	reg  registertypes.QueryClient
	sds  sdstypes.QueryClient
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
	return &View{conn: conn, reg: registertypes.NewQueryClient(conn), sds: sdstypes.NewQueryClient(conn)}, nil
}

// Close closes the connection.
func (v *View) Close() error { return v.conn.Close() }

// ActiveResourceNodes returns every registered, active resource node: node
// ID to ed25519 public key.
func (v *View) ActiveResourceNodes(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	var next []byte
	for {
		resp, err := v.reg.ResourceNodes(ctx, &registertypes.QueryResourceNodesRequest{Pagination: &query.PageRequest{Key: next, Limit: 500}})
		if err != nil {
			return nil, fmt.Errorf("chain: list resource nodes: %w", err)
		}
		for _, n := range resp.Nodes {
			if n.Status == registertypes.NodeStatus_NODE_STATUS_ACTIVE {
				out[n.NodeId] = n.PublicKey
			}
		}
		if resp.Pagination == nil || len(resp.Pagination.NextKey) == 0 {
			return out, nil
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
