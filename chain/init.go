package chain

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cosmos/cosmos-sdk/codec"
	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/stratos-net/stratos/app"
)

// NodeConfig describes the home of one validator of a real network, as
// `stratos init` writes it: the network's parameters are the whitepaper's
// (10 s blocks; x/pot's 10-minute ledger periods), the listen addresses the
// usual Cosmos ones. Accounts and validators then join the genesis with
// `stratos genesis add-genesis-account|gentx|collect-gentxs`.
type NodeConfig struct {
	Home    string
	Moniker string
	ChainID string
	// P2PListen, RPCListen: CometBFT's addresses (tcp://host:port);
	// GRPCListen: the SDK gRPC server (host:port) the storage nodes read.
	P2PListen, RPCListen, GRPCListen string
	BlockTime                        time.Duration // default DefaultBlockTime
	MinGasPrices                     string        // default DefaultMinGasPrices
	KeyringBackend                   string        // client.toml's default backend: "os"
	// Overwrite replaces an existing genesis.json; without it init refuses.
	Overwrite bool
}

// DefaultMinGasPrices is what a validator of a real network asks for gas,
// so transactions cannot be spammed for free.
const DefaultMinGasPrices = "0.001" + app.BondDenom

// ErrGenesisExists is returned by InitNode for a home that has a genesis.
var ErrGenesisExists = errors.New("genesis.json exists")

func (c *NodeConfig) defaults() error {
	if c.Home == "" || c.Moniker == "" || c.ChainID == "" {
		return errors.New("init: home, moniker and chain ID are required")
	}
	def := cmtcfg.DefaultConfig()
	if c.P2PListen == "" {
		c.P2PListen = def.P2P.ListenAddress
	}
	if c.RPCListen == "" {
		c.RPCListen = def.RPC.ListenAddress
	}
	if c.GRPCListen == "" {
		c.GRPCListen = srvconfig.DefaultConfig().GRPC.Address
	}
	if c.BlockTime == 0 {
		c.BlockTime = DefaultBlockTime
	}
	if c.BlockTime < 0 {
		return fmt.Errorf("init: block time %s is negative", c.BlockTime)
	}
	if c.MinGasPrices == "" {
		c.MinGasPrices = DefaultMinGasPrices
	}
	if _, err := sdk.ParseDecCoins(c.MinGasPrices); err != nil {
		return fmt.Errorf("init: minimum gas prices %q: %w", c.MinGasPrices, err)
	}
	if c.KeyringBackend == "" {
		c.KeyringBackend = "os"
	}
	return nil
}

// InitNode writes a validator home for a real network: config.toml,
// app.toml, client.toml, the node and consensus keys, and a genesis.json
// with every module's defaults and the Stratos denoms. It returns the
// CometBFT node ID (for other validators' persistent_peers).
func InitNode(cfg NodeConfig) (string, error) {
	if err := cfg.defaults(); err != nil {
		return "", err
	}
	for _, d := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(cfg.Home, d), 0o755); err != nil {
			return "", err
		}
	}
	c := cmtcfg.DefaultConfig()
	c.SetRoot(cfg.Home)
	if _, err := os.Stat(c.GenesisFile()); err == nil && !cfg.Overwrite {
		return "", fmt.Errorf("%w: %s (pass --overwrite to replace it)", ErrGenesisExists, c.GenesisFile())
	}
	c.Moniker = cfg.Moniker
	c.P2P.ListenAddress = cfg.P2PListen
	c.RPC.ListenAddress = cfg.RPCListen
	c.ProxyApp = "" // the ABCI app runs in process
	c.Consensus.TimeoutCommit = cfg.BlockTime
	if err := c.ValidateBasic(); err != nil {
		return "", fmt.Errorf("init: %w", err)
	}
	cmtcfg.WriteConfigFile(filepath.Join(cfg.Home, "config", "config.toml"), c)

	nodeID, _, err := genutil.InitializeNodeValidatorFiles(c)
	if err != nil {
		return "", err
	}

	appCfg := srvconfig.DefaultConfig()
	appCfg.MinGasPrices = cfg.MinGasPrices
	appCfg.GRPC.Enable = true
	appCfg.GRPC.Address = cfg.GRPCListen
	appCfg.API.Enable = false
	appCfg.GRPCWeb.Enable = false
	if err := appCfg.ValidateBasic(); err != nil {
		return "", fmt.Errorf("init: app.toml: %w", err)
	}
	srvconfig.WriteConfigFile(filepath.Join(cfg.Home, "config", "app.toml"), appCfg)
	writeClientToml(cfg.Home, cfg.ChainID, cfg.RPCListen, cfg.KeyringBackend)

	tmpApp := app.NewCodecApp()
	state := defaultGenesis(tmpApp, tmpApp.AppCodec())
	appState, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		return "", err
	}
	gen := &genutiltypes.AppGenesis{
		ChainID:     cfg.ChainID,
		GenesisTime: time.Now().UTC().Truncate(time.Second),
		AppState:    appState,
		Consensus:   &genutiltypes.ConsensusGenesis{Params: cmttypes.DefaultConsensusParams()},
	}
	if err := genutil.ExportGenesisFile(gen, c.GenesisFile()); err != nil {
		return "", err
	}
	return nodeID, nil
}

// defaultGenesis is every module's default genesis with the Stratos denoms
// described in x/bank.
func defaultGenesis(a *app.StratosApp, cdc codec.JSONCodec) map[string]json.RawMessage {
	state := a.DefaultGenesis()
	var bankGen banktypes.GenesisState
	cdc.MustUnmarshalJSON(state[banktypes.ModuleName], &bankGen)
	bankGen.DenomMetadata = []banktypes.Metadata{
		denomMeta(app.BondDenom, "stos", "STOS", "Stratos token"),
		denomMeta(app.StableDenom, "stb", "STB", "Stratos stable unit"),
	}
	state[banktypes.ModuleName] = cdc.MustMarshalJSON(&bankGen)
	return state
}
