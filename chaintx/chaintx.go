// Package chaintx signs and broadcasts the storage network's own
// transactions: the meta node's index anchors (x/sds) and volume reports
// (x/pot), DESIGN §4, §7. It uses
// the Cosmos SDK's client with a key from a test keyring, as the devnet
// provides; a production meta node would hold its operator key the same way.
package chaintx

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/stratos-net/stratos/app"
	"github.com/stratos-net/stratos/traffic"
	pottypes "github.com/stratos-net/stratos/x/pot/types"
	sdstypes "github.com/stratos-net/stratos/x/sds/types"
)

// Config says which key signs and which node takes the transactions.
type Config struct {
	KeyringDir string // a test-backend keyring (keyring-test/ inside)
	Key        string // the key's name: the meta node's operator account
	ChainID    string
	RPC        string // a validator's CometBFT RPC, tcp://host:port
	Fees       string // e.g. 3000ustos
}

// Validate reports a config that cannot work.
func (c Config) Validate() error {
	if c.KeyringDir == "" || c.Key == "" || c.ChainID == "" || c.RPC == "" {
		return errors.New("chain transactions need a keyring dir, a key, a chain ID and an RPC address")
	}
	return nil
}

// ErrRejected is returned when the chain refuses a transaction.
var ErrRejected = errors.New("transaction rejected")

// Sender signs with one key and broadcasts to one node.
type Sender struct {
	chainID string
	cctx    client.Context
	factory tx.Factory
	from    sdk.AccAddress
	key     string
}

// New opens the keyring and the RPC connection.
func New(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tmp := app.NewCodecApp()
	kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, cfg.KeyringDir, nil, tmp.AppCodec())
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", cfg.KeyringDir, err)
	}
	rec, err := kr.Key(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("key %q in %s: %w", cfg.Key, cfg.KeyringDir, err)
	}
	from, err := rec.GetAddress()
	if err != nil {
		return nil, err
	}
	rpc, err := client.NewClientFromNode(cfg.RPC)
	if err != nil {
		return nil, fmt.Errorf("chain node %s: %w", cfg.RPC, err)
	}
	fees := cfg.Fees
	if fees == "" {
		fees = "3000" + app.BondDenom
	}
	cctx := client.Context{}.
		WithCodec(tmp.AppCodec()).WithInterfaceRegistry(tmp.InterfaceRegistry()).
		WithTxConfig(tmp.TxConfig()).WithAccountRetriever(authtypes.AccountRetriever{}).
		WithKeyring(kr).WithChainID(cfg.ChainID).WithNodeURI(cfg.RPC).WithClient(rpc).
		WithFromName(cfg.Key).WithFromAddress(from).WithBroadcastMode(flags.BroadcastSync).
		WithSkipConfirmation(true).WithOutput(io.Discard)
	f := tx.Factory{}.WithChainID(cfg.ChainID).WithKeybase(kr).WithTxConfig(tmp.TxConfig()).
		WithAccountRetriever(authtypes.AccountRetriever{}).WithGas(300_000).WithFees(fees).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT)
	return &Sender{chainID: cfg.ChainID, cctx: cctx, factory: f, from: from, key: cfg.Key}, nil
}

// AnchorIndex posts a meta node's index root for a period.
func (s *Sender) AnchorIndex(ctx context.Context, metaNodeID string, period uint64, root []byte) error {
	return s.send(ctx, &sdstypes.MsgAnchorIndex{Sender: s.from.String(), MetaNodeId: metaNodeID, Period: period, Root: root})
}

// ReportVolume submits a period's volume report to x/pot, signed by the
// meta node (sign is its node key's signature) over the chain's sign bytes.
// With several meta nodes the signatures of the others would be gathered
// first; a devnet has one.
func (s *Sender) ReportVolume(ctx context.Context, period uint64, r traffic.Report, metaNodeID string, sign func([]byte) []byte) error {
	msg := &pottypes.MsgVolumeReport{Reporter: s.from.String(), Period: period}
	for _, v := range r.Nodes {
		msg.Nodes = append(msg.Nodes, pottypes.NodeVolume{NodeId: v.ID, Bytes: v.Bytes})
	}
	for _, v := range r.Users {
		msg.Users = append(msg.Users, pottypes.UserVolume{Address: v.ID, Bytes: v.Bytes})
	}
	sig := sign(pottypes.VolumeReportSignBytes(s.chainID, period, msg.Nodes, msg.Users))
	msg.Signatures = []pottypes.MetaSignature{{MetaNodeId: metaNodeID, Signature: sig}}
	return s.send(ctx, msg)
}

// send signs msg with a fresh account sequence and broadcasts it; a
// transaction the node refuses at CheckTx is an error.
func (s *Sender) send(ctx context.Context, msg sdk.Msg) error {
	cctx := s.cctx.WithCmdContext(ctx)
	f, err := s.factory.Prepare(cctx)
	if err != nil {
		return fmt.Errorf("prepare transaction: %w", err)
	}
	b, err := f.BuildUnsignedTx(msg)
	if err != nil {
		return err
	}
	if err := tx.Sign(ctx, f, s.key, b, true); err != nil {
		return fmt.Errorf("sign transaction: %w", err)
	}
	bz, err := cctx.TxConfig.TxEncoder()(b.GetTx())
	if err != nil {
		return err
	}
	res, err := cctx.BroadcastTx(bz)
	if err != nil {
		return fmt.Errorf("broadcast: %w", err)
	}
	if res.Code != 0 {
		return fmt.Errorf("%w: code %d: %s", ErrRejected, res.Code, res.RawLog)
	}
	return s.included(ctx, res.TxHash)
}

// inclusionWait bounds how long send waits for a transaction to land: six
// of the whitepaper's 10 s blocks.
const inclusionWait = time.Minute

// included waits until the transaction is in a block and checks that its
// messages succeeded: passing the mempool's check (BroadcastSync) runs no
// message handler, and x/pot may still refuse a report in the block.
func (s *Sender) included(ctx context.Context, txHash string) error {
	hash, err := hex.DecodeString(txHash)
	if err != nil {
		return fmt.Errorf("transaction hash %q: %w", txHash, err)
	}
	ctx, cancel := context.WithTimeout(ctx, inclusionWait)
	defer cancel()
	for {
		res, err := s.cctx.Client.Tx(ctx, hash, false)
		if err == nil {
			if res.TxResult.Code != 0 {
				return fmt.Errorf("%w in block %d: code %d: %s", ErrRejected, res.Height, res.TxResult.Code, res.TxResult.Log)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("transaction %s not in a block after %s: %w", txHash, inclusionWait, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
