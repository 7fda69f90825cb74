package chain

import (
	"context"
	"fmt"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
)

// Block is a block header as the dashboard lists it.
type Block struct {
	Height   int64     `json:"height"`
	Time     time.Time `json:"time"`
	Hash     string    `json:"hash"`
	Txs      int       `json:"txs"`
	Proposer string    `json:"proposer"` // consensus address, hex
}

// RecentBlocks asks the node at rpcAddr for the headers of up to n of its
// latest blocks, newest first.
func RecentBlocks(ctx context.Context, rpcAddr string, n int) ([]Block, error) {
	c, err := rpchttp.New(rpcAddr, "/websocket")
	if err != nil {
		return nil, fmt.Errorf("chain node %s: %w", rpcAddr, err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("chain node %s: %w", rpcAddr, err)
	}
	top := st.SyncInfo.LatestBlockHeight
	if top < 1 || n < 1 {
		return []Block{}, nil
	}
	bottom := max(st.SyncInfo.EarliestBlockHeight, top-int64(n)+1, 1)
	res, err := c.BlockchainInfo(ctx, bottom, top)
	if err != nil {
		return nil, fmt.Errorf("chain node %s: blocks %d to %d: %w", rpcAddr, bottom, top, err)
	}
	out := make([]Block, 0, len(res.BlockMetas))
	for _, m := range res.BlockMetas {
		out = append(out, Block{Height: m.Header.Height, Time: m.Header.Time.UTC(), Hash: m.BlockID.Hash.String(),
			Txs: m.NumTxs, Proposer: m.Header.ProposerAddress.String()})
	}
	return out, nil
}
