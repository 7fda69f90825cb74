package chainclient

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/stratos-net/stratos/app"
	"github.com/stratos-net/stratos/traffic"
	pottypes "github.com/stratos-net/stratos/x/pot/types"
	sdstypes "github.com/stratos-net/stratos/x/sds/types"
)

// SenderConfig says which key signs and which node takes the transactions.
type SenderConfig struct {
	KeyringDir string
	// Backend is the keyring's backend (BackendOS, BackendFile,
	// BackendTest; empty: test); Input answers a file keyring's
	// passphrase prompt (see NodeKeyring).
	Backend string
	Input   io.Reader
	Key     string // the key's name: the meta node's operator account
	ChainID string
	RPC     string // a validator's CometBFT RPC, tcp://host:port
	Fees    string // e.g. 3000ustos
}

// Validate reports a config that cannot work.
func (c SenderConfig) Validate() error {
	if c.KeyringDir == "" || c.Key == "" || c.ChainID == "" || c.RPC == "" {
		return errors.New("chain transactions need a keyring dir, a key, a chain ID and an RPC address")
	}
	return nil
}

// ErrRejected is returned when the chain refuses a transaction.
var ErrRejected = errors.New("transaction rejected")

// Refusal is the chain running a transaction and refusing it, at CheckTx
// (no fee) or in a block (the fee is paid). It is ErrRejected. Sending the
// same transaction again is refused again: callers that would retry ask
// Refused (meta's period loop does, without importing this package).
type Refusal struct {
	Code   uint32
	Log    string
	Height int64 // of the block that refused it; 0 at CheckTx
}

func (r *Refusal) Error() string {
	if r.Height > 0 {
		return fmt.Sprintf("%v in block %d: code %d: %s", ErrRejected, r.Height, r.Code, r.Log)
	}
	return fmt.Sprintf("%v: code %d: %s", ErrRejected, r.Code, r.Log)
}

// Is makes a Refusal match ErrRejected.
func (r *Refusal) Is(target error) bool { return target == ErrRejected }

// Refused is always true: the chain ran the transaction and said no.
func (r *Refusal) Refused() bool { return true }

// Sender signs with one key and broadcasts to one node. It is safe for
// concurrent use: sends are serialized, since two transactions signed at
// once would take the same account sequence and one would be refused (a
// meta node anchors, reports and challenges from different loops; a
// resource node commits and reveals from two).
type Sender struct {
	mu      sync.Mutex // one transaction at a time
	chainID string
	cctx    client.Context
	factory tx.Factory
	from    sdk.AccAddress
	key     string
	fees    sdk.Coins // for baseGas
}

// NewSender opens the keyring and the RPC connection.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tmp := app.NewCodecApp()
	backend := cfg.Backend
	if backend == "" {
		backend = BackendTest
	}
	kr, err := OpenKeyring(cfg.KeyringDir, backend, cfg.Input)
	if err != nil {
		return nil, err
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
	feeCoins, err := sdk.ParseCoinsNormalized(fees)
	if err != nil {
		return nil, fmt.Errorf("fees %q: %w", fees, err)
	}
	f := tx.Factory{}.WithChainID(cfg.ChainID).WithKeybase(kr).WithTxConfig(tmp.TxConfig()).
		WithAccountRetriever(authtypes.AccountRetriever{}).WithGas(baseGas).WithFees(fees).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT)
	return &Sender{chainID: cfg.ChainID, cctx: cctx, factory: f, from: from, key: cfg.Key, fees: feeCoins}, nil
}

// AnchorIndex posts a meta node's index root for a period.
func (s *Sender) AnchorIndex(ctx context.Context, metaNodeID string, period uint64, root []byte) error {
	return s.send(ctx, &sdstypes.MsgAnchorIndex{Sender: s.from.String(), MetaNodeId: metaNodeID, Period: period, Root: root})
}

// ReportVolume submits a period's volume report to x/pot, signed by the
// with sigs, the signatures of more than 2/3 of the meta authorities over
// the chain's sign bytes (SignBytes), which the leader gathers first.
func (s *Sender) ReportVolume(ctx context.Context, period uint64, r traffic.Report, sigs []traffic.Signature) error {
	msg := volumeReportMsg(s.from.String(), period, r, sigs)
	return s.sendGas(ctx, msg, reportGas(msg))
}

// SignBytes are what every meta authority signs for a period's report:
// x/pot's sign bytes of this chain.
func (s *Sender) SignBytes(period uint64, r traffic.Report) []byte {
	msg := volumeReportMsg("", period, r, nil)
	return pottypes.VolumeReportSignBytes(s.chainID, period, msg.Volumes())
}

// volumeReportMsg maps a report to x/pot's message: the period's traffic
// and the storage at its end (DESIGN §7), with the meta authorities'
// signatures over what the chain will verify.
func volumeReportMsg(reporter string, period uint64, r traffic.Report, sigs []traffic.Signature) *pottypes.MsgVolumeReport {
	msg := &pottypes.MsgVolumeReport{Reporter: reporter, Period: period,
		Nodes: nodeVolumes(r.Nodes), Users: userVolumes(r.Users),
		StoredNodes: nodeVolumes(r.StoredNodes), StoredUsers: userVolumes(r.StoredUsers),
	}
	for _, sg := range sigs {
		msg.Signatures = append(msg.Signatures, pottypes.MetaSignature{MetaNodeId: sg.Signer, Signature: sg.Sig})
	}
	return msg
}

func nodeVolumes(vols []traffic.Volume) []pottypes.NodeVolume {
	var out []pottypes.NodeVolume
	for _, v := range vols {
		out = append(out, pottypes.NodeVolume{NodeId: v.ID, Bytes: v.Bytes})
	}
	return out
}

func userVolumes(vols []traffic.Volume) []pottypes.UserVolume {
	var out []pottypes.UserVolume
	for _, v := range vols {
		out = append(out, pottypes.UserVolume{Address: v.ID, Bytes: v.Bytes})
	}
	return out
}

// Gas of a transaction. A volume report's handler does a few reads and
// writes per entry (a node's reward and operator index, a user's prepay and
// the bank transfer of its charge), so its limit grows with its entries:
// with a fixed limit, a report naming many stored nodes would run out.
const (
	baseGas  = 300_000
	entryGas = 40_000
)

func reportGas(m *pottypes.MsgVolumeReport) uint64 {
	n := len(m.Nodes) + len(m.Users) + len(m.StoredNodes) + len(m.StoredUsers)
	return baseGas + entryGas*uint64(n)
}

// send signs msg with a fresh account sequence and broadcasts it; a
// transaction the node refuses at CheckTx is an error.
func (s *Sender) send(ctx context.Context, msg sdk.Msg) error { return s.sendGas(ctx, msg, baseGas) }

// sendGas is send with a gas limit. The fee grows with the limit from the
// configured fee for baseGas, so the gas price the validators see stays the
// same.
func (s *Sender) sendGas(ctx context.Context, msg sdk.Msg, gas uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for try := 1; ; try++ {
		err := s.sendOnce(ctx, msg, gas)
		if !errors.Is(err, errWrongSequence) || try == sequenceTries {
			return err
		}
		// Another signer of the same account (the devnet's operator
		// approving a meta node while the leader reports) took the
		// sequence number; the next block makes the new one readable.
		select {
		case <-ctx.Done():
			return err
		case <-time.After(sequenceBackoff):
		}
	}
}

// A transaction refused for its account sequence is signed again with a
// fresh one, up to sequenceTries times, sequenceBackoff apart.
const (
	sequenceTries   = 8
	sequenceBackoff = 750 * time.Millisecond
)

var errWrongSequence = errors.New("account sequence taken by another transaction")

func (s *Sender) sendOnce(ctx context.Context, msg sdk.Msg, gas uint64) error {
	cctx := s.cctx.WithCmdContext(ctx)
	f, err := s.factory.WithGas(gas).WithFees(scaleFees(s.fees, gas)).Prepare(cctx)
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
	if res.Code == sdkerrors.ErrWrongSequence.ABCICode() && res.Codespace == sdkerrors.ErrWrongSequence.Codespace() {
		return fmt.Errorf("%w: %w: %s", ErrRejected, errWrongSequence, res.RawLog)
	}
	if res.Code != 0 {
		return &Refusal{Code: res.Code, Log: res.RawLog}
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
				return &Refusal{Code: res.TxResult.Code, Log: res.TxResult.Log, Height: res.Height}
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

// scaleFees returns fees × gas / baseGas, rounded up.
func scaleFees(fees sdk.Coins, gas uint64) string {
	out := make(sdk.Coins, 0, len(fees))
	g := math.NewIntFromUint64(gas)
	for _, c := range fees {
		amt := c.Amount.Mul(g).AddRaw(baseGas - 1).QuoRaw(baseGas)
		out = append(out, sdk.NewCoin(c.Denom, amt))
	}
	return out.String()
}
