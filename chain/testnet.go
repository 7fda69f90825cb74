// Package chain creates and runs the Stratos value layer (DESIGN §4): the
// genesis of a local network of validators (InitTestnet) and a validator
// running CometBFT in this process with the application of package app.
package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmttypes "github.com/cometbft/cometbft/types"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/stratos-net/stratos/app"
)

// TestnetConfig describes a local multi-validator network (like `simd testnet`).
type TestnetConfig struct {
	Dir           string        // node homes are Dir/node0 ... Dir/node{N-1}
	ChainID       string        // default "stratos-devnet-1"
	NumValidators int           // default 1
	BasePort      int           // node i: p2p BasePort+10i, rpc +1, grpc +2 (default 36600)
	TimeoutCommit time.Duration // block time, default DefaultBlockTime (10 s)
	// Accounts are extra keyring accounts funded at genesis; "user" is always added.
	Accounts []string
	// ClientHome, if set, also gets every key in its test keyring and a
	// config/client.toml pointing at validator 0, so `stratos keys|tx|query
	// --home ClientHome` work there (the devnet's home).
	ClientHome string
	// Genesis, if set, may change any module's genesis state before the
	// validators sign theirs; accounts holds every key's address by name.
	Genesis func(accounts map[string]sdk.AccAddress, state map[string]json.RawMessage, cdc codec.JSONCodec) error
	// DBBackend for app state and CometBFT ("" = goleveldb). "pebbledb" works for
	// the app DB as is; CometBFT's pebbledb needs `go build -tags pebbledb`.
	DBBackend string
	// Metrics turns on CometBFT's Prometheus metrics (ServicePorts); only
	// for validators that each run in a process of their own.
	Metrics bool
}

// Testnet is the result of InitTestnet.
type Testnet struct {
	Cfg      TestnetConfig
	Homes    []string
	Accounts map[string]sdk.AccAddress // keyring name -> address (validator keys are "node<i>")
}

func (c *TestnetConfig) defaults() {
	if c.ChainID == "" {
		c.ChainID = "stratos-devnet-1"
	}
	if c.NumValidators == 0 {
		c.NumValidators = 1
	}
	if c.BasePort == 0 {
		c.BasePort = 36600
	}
	if c.TimeoutCommit == 0 {
		c.TimeoutCommit = DefaultBlockTime
	}
}

// DefaultBlockTime is the whitepaper's block time for a real network; a
// devnet asks for DevnetBlockTime.
const (
	DefaultBlockTime = 10 * time.Second
	DevnetBlockTime  = time.Second
)

// Ports returns (p2p, rpc, grpc) ports of validator i.
func (c TestnetConfig) Ports(i int) (int, int, int) {
	b := c.BasePort + 10*i
	return b, b + 1, b + 2
}

// ServicePorts are validator i's REST (LCD) API port and CometBFT's
// Prometheus metrics port: base+10i+3 and base+10i+4.
func (c TestnetConfig) ServicePorts(i int) (api, metrics int) {
	b := c.BasePort + 10*i
	return b + 3, b + 4
}

var (
	stakePerValidator = sdkmath.NewInt(100_000_000_000)   // 100k STOS bonded
	fundsPerAccount   = sdkmath.NewInt(1_000_000_000_000) // 1M STOS
	stbPerAccount     = sdkmath.NewInt(1_000_000_000_000) // 1M STB
)

// InitTestnet writes N validator homes: node key, priv validator key, keyring
// (test backend; every home holds every key so any home can be used with --from),
// config.toml with persistent peers, app.toml, and one shared genesis.json with
// collected gentxs.
func InitTestnet(cfg TestnetConfig) (*Testnet, error) {
	cfg.defaults()
	enc := app.NewEncodingConfig()
	// A throw-away app instance gives us every module's default genesis.
	tmpApp := app.NewCodecApp()
	enc.InterfaceRegistry = tmpApp.InterfaceRegistry()
	enc.Codec = tmpApp.AppCodec()
	enc.TxConfig = tmpApp.TxConfig()
	cdc := enc.Codec

	tn := &Testnet{Cfg: cfg, Accounts: map[string]sdk.AccAddress{}}
	gentxsDir := filepath.Join(cfg.Dir, "gentxs")
	if err := os.MkdirAll(gentxsDir, 0o755); err != nil {
		return nil, err
	}

	// 1. keys: validators node0..N-1 plus accounts; mnemonic-derived so they can be
	//    written into every home's keyring.
	names := []string{}
	for i := 0; i < cfg.NumValidators; i++ {
		names = append(names, fmt.Sprintf("node%d", i))
	}
	names = append(names, "user")
	for _, a := range cfg.Accounts {
		if a != "user" {
			names = append(names, a)
		}
	}
	mnemonics := map[string]string{}
	{
		kb := keyring.NewInMemory(cdc)
		for _, n := range names {
			rec, mn, err := kb.NewMnemonic(n, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
			if err != nil {
				return nil, err
			}
			addr, err := rec.GetAddress()
			if err != nil {
				return nil, err
			}
			mnemonics[n] = mn
			tn.Accounts[n] = addr
		}
	}

	// 2. per-node files
	cmtCfgs := make([]*cmtcfg.Config, cfg.NumValidators)
	valPubKeys := make([]cryptotypes.PubKey, cfg.NumValidators)
	nodeIDs := make([]string, cfg.NumValidators)
	kbs := make([]keyring.Keyring, cfg.NumValidators)
	for i := 0; i < cfg.NumValidators; i++ {
		home := filepath.Join(cfg.Dir, fmt.Sprintf("node%d", i))
		tn.Homes = append(tn.Homes, home)
		if err := os.MkdirAll(filepath.Join(home, "config"), 0o755); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Join(home, "data"), 0o755); err != nil {
			return nil, err
		}
		p2pPort, rpcPort, grpcPort := cfg.Ports(i)
		c := cmtcfg.DefaultConfig()
		c.SetRoot(home)
		c.Moniker = fmt.Sprintf("node%d", i)
		c.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", p2pPort)
		c.P2P.AddrBookStrict = false
		c.P2P.AllowDuplicateIP = true
		// Loopback devnet: peers come from persistent_peers; with PEX off the
		// address book is never started, so nothing writes config/addrbook.json
		// asynchronously after Node.Stop (which broke t.TempDir cleanup).
		c.P2P.PexReactor = false
		c.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", rpcPort)
		c.RPC.PprofListenAddress = ""
		c.ProxyApp = "" // ABCI app is in process
		c.Consensus.TimeoutCommit = cfg.TimeoutCommit
		apiPort, metricsPort := cfg.ServicePorts(i)
		// CometBFT registers its metrics in the process's default Prometheus
		// registry: one validator per process may (the devnet's), more would
		// register twice and panic, so tests that run several leave it off.
		c.Instrumentation.Prometheus = cfg.Metrics
		c.Instrumentation.PrometheusListenAddr = fmt.Sprintf("127.0.0.1:%d", metricsPort)
		if cfg.DBBackend != "" {
			c.DBBackend = cfg.DBBackend
		}
		cmtCfgs[i] = c

		id, pk, err := genutil.InitializeNodeValidatorFiles(c) // node_key.json + priv_validator_key.json
		if err != nil {
			return nil, err
		}
		valPubKeys[i], nodeIDs[i] = pk, id

		kb, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, home, nil, cdc)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if _, err := kb.NewAccount(n, mnemonics[n], keyring.DefaultBIP39Passphrase, sdk.FullFundraiserPath, hd.Secp256k1); err != nil {
				return nil, err
			}
		}
		kbs[i] = kb

		appCfg := srvconfig.DefaultConfig()
		appCfg.MinGasPrices = "0" + app.BondDenom
		appCfg.AppDBBackend = cfg.DBBackend
		appCfg.API.Enable = true
		appCfg.API.Address = fmt.Sprintf("tcp://127.0.0.1:%d", apiPort)
		appCfg.GRPC.Enable = true
		appCfg.GRPC.Address = fmt.Sprintf("127.0.0.1:%d", grpcPort)
		appCfg.GRPCWeb.Enable = false
		appCfg.Telemetry.Enabled = false //nolint:staticcheck
		srvconfig.WriteConfigFile(filepath.Join(home, "config", "app.toml"), appCfg)
		// client.toml so `stratos ... --home nodeX` picks chain-id/node/keyring defaults
		writeClientToml(home, cfg.ChainID, fmt.Sprintf("tcp://127.0.0.1:%d", rpcPort), "test")
	}

	// 3. genesis state
	genState := defaultGenesis(tmpApp, cdc)
	var authGen authtypes.GenesisState
	cdc.MustUnmarshalJSON(genState[authtypes.ModuleName], &authGen)
	var bankGen banktypes.GenesisState
	cdc.MustUnmarshalJSON(genState[banktypes.ModuleName], &bankGen)
	accs := []authtypes.GenesisAccount{}
	for _, n := range names {
		addr := tn.Accounts[n]
		accs = append(accs, authtypes.NewBaseAccount(addr, nil, 0, 0))
		bankGen.Balances = append(bankGen.Balances, banktypes.Balance{
			Address: addr.String(),
			Coins:   sdk.NewCoins(sdk.NewCoin(app.BondDenom, fundsPerAccount), sdk.NewCoin(app.StableDenom, stbPerAccount)),
		})
	}
	packed, err := authtypes.PackAccounts(accs)
	if err != nil {
		return nil, err
	}
	authGen.Accounts = append(authGen.Accounts, packed...)
	genState[authtypes.ModuleName] = cdc.MustMarshalJSON(&authGen)
	genState[banktypes.ModuleName] = cdc.MustMarshalJSON(&bankGen)
	// devnet-friendly gov: short voting period
	var govGen govv1.GenesisState
	cdc.MustUnmarshalJSON(genState["gov"], &govGen)
	vp := 60 * time.Second
	evp := 30 * time.Second
	govGen.Params.VotingPeriod = &vp
	govGen.Params.ExpeditedVotingPeriod = &evp
	genState["gov"] = cdc.MustMarshalJSON(&govGen)
	if cfg.Genesis != nil {
		if err := cfg.Genesis(tn.Accounts, genState, cdc); err != nil {
			return nil, fmt.Errorf("genesis: %w", err)
		}
	}

	appStateJSON, err := json.MarshalIndent(genState, "", "  ")
	if err != nil {
		return nil, err
	}
	genTime := time.Now().UTC().Truncate(time.Second)
	newGenesis := func() *genutiltypes.AppGenesis {
		return &genutiltypes.AppGenesis{
			ChainID:     cfg.ChainID,
			GenesisTime: genTime,
			AppState:    appStateJSON,
			Consensus:   &genutiltypes.ConsensusGenesis{Params: cmttypes.DefaultConsensusParams()},
		}
	}
	for _, c := range cmtCfgs {
		if err := genutil.ExportGenesisFile(newGenesis(), c.GenesisFile()); err != nil {
			return nil, err
		}
	}

	// 4. gentxs (MsgCreateValidator signed by node<i>; memo "nodeID@ip:port" -> persistent peers)
	for i := range cmtCfgs {
		name := fmt.Sprintf("node%d", i)
		nodeKeyID := nodeIDs[i]
		msg, err := stakingtypes.NewMsgCreateValidator(
			sdk.ValAddress(tn.Accounts[name]).String(), valPubKeys[i],
			sdk.NewCoin(app.BondDenom, stakePerValidator),
			stakingtypes.NewDescription(name, "", "", "", ""),
			stakingtypes.NewCommissionRates(sdkmath.LegacyMustNewDecFromStr("0.1"), sdkmath.LegacyMustNewDecFromStr("0.2"), sdkmath.LegacyMustNewDecFromStr("0.01")),
			sdkmath.OneInt(),
		)
		if err != nil {
			return nil, err
		}
		p2pPort, _, _ := cfg.Ports(i)
		memo := fmt.Sprintf("%s@127.0.0.1:%d", nodeKeyID, p2pPort)
		b := enc.TxConfig.NewTxBuilder()
		if err := b.SetMsgs(msg); err != nil {
			return nil, err
		}
		b.SetGasLimit(1_000_000)
		b.SetMemo(memo)
		f := tx.Factory{}.WithChainID(cfg.ChainID).WithMemo(memo).WithKeybase(kbs[i]).WithTxConfig(enc.TxConfig)
		if err := tx.Sign(context.Background(), f, name, b, true); err != nil {
			return nil, err
		}
		bz, err := enc.TxConfig.TxJSONEncoder()(b.GetTx())
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(gentxsDir, name+".json"), bz, 0o644); err != nil {
			return nil, err
		}
	}

	// 5. collect gentxs into every node's genesis; also writes config.toml with persistent_peers
	valCodec := enc.TxConfig.SigningContext().ValidatorAddressCodec()
	for _, c := range cmtCfgs {
		initCfg := genutiltypes.NewInitConfig(cfg.ChainID, gentxsDir, "", nil)
		if _, err := genutil.GenAppStateFromConfig(cdc, enc.TxConfig, c, initCfg, newGenesis(),
			banktypes.GenesisBalancesIterator{}, genutiltypes.DefaultMessageValidator, valCodec); err != nil {
			return nil, err
		}
	}
	if cfg.ClientHome != "" {
		if err := writeClientHome(cfg, cdc, names, mnemonics); err != nil {
			return nil, err
		}
	}
	return tn, nil
}

// writeClientHome puts every key of the testnet in the client home's test
// keyring and points its client.toml at validator 0.
func writeClientHome(cfg TestnetConfig, cdc codec.Codec, names []string, mnemonics map[string]string) error {
	if err := os.MkdirAll(filepath.Join(cfg.ClientHome, "config"), 0o755); err != nil {
		return err
	}
	kb, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, cfg.ClientHome, nil, cdc)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := kb.NewAccount(n, mnemonics[n], keyring.DefaultBIP39Passphrase, sdk.FullFundraiserPath, hd.Secp256k1); err != nil {
			return fmt.Errorf("client keyring: %w", err)
		}
	}
	_, rpcPort, _ := cfg.Ports(0)
	writeClientToml(cfg.ClientHome, cfg.ChainID, fmt.Sprintf("tcp://127.0.0.1:%d", rpcPort), "test")
	return nil
}

// FreeBasePort finds a base port from which the ports of n validators
// (Ports(0) .. Ports(n-1)) are free on loopback now.
func FreeBasePort(n int) (int, error) {
	for p := 30000 + (os.Getpid()%300)*50; p < 60000; p += 10*n + 10 {
		if portsFree(p, 10*n) {
			return p, nil
		}
	}
	return 0, errors.New("no free range of loopback ports for the validators")
}

func portsFree(from, n int) bool {
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", from+i))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

func denomMeta(base, display, symbol, name string) banktypes.Metadata {
	return banktypes.Metadata{
		Description: name,
		Base:        base,
		Display:     display,
		Name:        name,
		Symbol:      symbol,
		DenomUnits: []*banktypes.DenomUnit{
			{Denom: base, Exponent: 0},
			{Denom: display, Exponent: 6},
		},
	}
}

// writeClientToml points the home's client commands at a node (rpc, a
// CometBFT address) of chain chainID, with a default keyring backend.
func writeClientToml(home, chainID, rpc, keyringBackend string) {
	s := fmt.Sprintf(`chain-id = %q
keyring-backend = %q
keyring-default-keyname = ""
output = "text"
node = %q
broadcast-mode = "sync"
`, chainID, keyringBackend, rpc)
	_ = os.WriteFile(filepath.Join(home, "config", "client.toml"), []byte(s), 0o644)
}
