package chain

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cometbft/cometbft/p2p"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
)

// NodeID is the CometBFT node ID of the validator home.
func NodeID(home string) (string, error) {
	k, err := p2p.LoadNodeKey(filepath.Join(home, "config", "node_key.json"))
	if err != nil {
		return "", fmt.Errorf("validator node key: %w", err)
	}
	return string(k.ID()), nil
}

// Validator is one member of the validator set.
type Validator struct {
	Address     string `json:"address"` // consensus address, hex
	VotingPower int64  `json:"voting_power"`
}

// Info is what `stratos status` shows of the chain.
type Info struct {
	ChainID    string      `json:"chain_id"`
	Height     int64       `json:"height"`
	CatchingUp bool        `json:"catching_up"`
	Validators []Validator `json:"validators"`
}

// Status asks the node at rpcAddr ("tcp://host:port") for the chain's state.
func Status(ctx context.Context, rpcAddr string) (*Info, error) {
	c, st, err := nodeStatus(ctx, rpcAddr)
	if err != nil {
		return nil, err
	}
	info := &Info{ChainID: st.NodeInfo.Network, Height: st.SyncInfo.LatestBlockHeight, CatchingUp: st.SyncInfo.CatchingUp, Validators: []Validator{}}
	vals, err := c.Validators(ctx, nil, nil, nil)
	if err != nil {
		return info, nil // height is known; the set is best effort
	}
	for _, v := range vals.Validators {
		info.Validators = append(info.Validators, Validator{Address: hex.EncodeToString(v.Address), VotingPower: v.VotingPower})
	}
	return info, nil
}

// LatestBlockHash asks the node at rpcAddr for the hash of its latest
// block: the PoA vote's numbers come from it (DESIGN §5.2).
func LatestBlockHash(ctx context.Context, rpcAddr string) ([]byte, error) {
	_, st, err := nodeStatus(ctx, rpcAddr)
	if err != nil {
		return nil, err
	}
	if len(st.SyncInfo.LatestBlockHash) == 0 {
		return nil, fmt.Errorf("chain node %s: no block yet", rpcAddr)
	}
	return st.SyncInfo.LatestBlockHash, nil
}

// BlockTime asks the node at rpcAddr for the time of the block with this
// hash; it fails if the chain has no such block. A PoA vote's block hash
// is checked with it (DESIGN §5.2): nobody may pick a winning number by
// naming a block that does not exist.
func BlockTime(ctx context.Context, rpcAddr string, hash []byte) (time.Time, error) {
	c, err := rpchttp.New(rpcAddr, "/websocket")
	if err != nil {
		return time.Time{}, fmt.Errorf("chain node %s: %w", rpcAddr, err)
	}
	res, err := c.BlockByHash(ctx, hash)
	if err != nil {
		return time.Time{}, fmt.Errorf("chain node %s: block %X: %w", rpcAddr, hash, err)
	}
	if res == nil || res.Block == nil {
		return time.Time{}, fmt.Errorf("chain node %s: no block %X", rpcAddr, hash)
	}
	return res.Block.Time, nil
}

// nodeStatus asks the node at rpcAddr for its status.
func nodeStatus(ctx context.Context, rpcAddr string) (*rpchttp.HTTP, *coretypes.ResultStatus, error) {
	c, err := rpchttp.New(rpcAddr, "/websocket")
	if err != nil {
		return nil, nil, fmt.Errorf("chain node %s: %w", rpcAddr, err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("chain node %s: %w", rpcAddr, err)
	}
	return c, st, nil
}
