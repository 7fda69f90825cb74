// Package app wires the Stratos value-layer application by hand (no depinject):
// every keeper is constructed explicitly, so custom modules (x/register, x/sds,
// x/pot) are added by writing three lines here, and compile errors point at
// the exact constructor that changed between SDK releases.
package app

import (
	"encoding/json"
	"fmt"
	"io"

	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	nodeservice "github.com/cosmos/cosmos-sdk/client/grpc/node"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	runtimeservices "github.com/cosmos/cosmos-sdk/runtime/services"
	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/server/api"
	"github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/cosmos-sdk/x/auth"
	"github.com/cosmos/cosmos-sdk/x/auth/ante"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/authz"
	authzkeeper "github.com/cosmos/cosmos-sdk/x/authz/keeper"
	authzmodule "github.com/cosmos/cosmos-sdk/x/authz/module"
	"github.com/cosmos/cosmos-sdk/x/bank"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/consensus"
	consensuskeeper "github.com/cosmos/cosmos-sdk/x/consensus/keeper"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distr "github.com/cosmos/cosmos-sdk/x/distribution"
	distrkeeper "github.com/cosmos/cosmos-sdk/x/distribution/keeper"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	"github.com/cosmos/cosmos-sdk/x/gov"
	govkeeper "github.com/cosmos/cosmos-sdk/x/gov/keeper"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	"github.com/cosmos/cosmos-sdk/x/mint"
	mintkeeper "github.com/cosmos/cosmos-sdk/x/mint/keeper"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	"github.com/cosmos/cosmos-sdk/x/slashing"
	slashingkeeper "github.com/cosmos/cosmos-sdk/x/slashing/keeper"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	"github.com/cosmos/cosmos-sdk/x/staking"
	stakingkeeper "github.com/cosmos/cosmos-sdk/x/staking/keeper"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
	reflectionv1 "cosmossdk.io/api/cosmos/reflection/v1"

	potmodule "github.com/stratos-net/stratos/x/pot"
	potkeeper "github.com/stratos-net/stratos/x/pot/keeper"
	pottypes "github.com/stratos-net/stratos/x/pot/types"
	registermodule "github.com/stratos-net/stratos/x/register"
	registerkeeper "github.com/stratos-net/stratos/x/register/keeper"
	registertypes "github.com/stratos-net/stratos/x/register/types"
	sdsmodule "github.com/stratos-net/stratos/x/sds"
	sdskeeper "github.com/stratos-net/stratos/x/sds/keeper"
	sdstypes "github.com/stratos-net/stratos/x/sds/types"
	trustedfnmodule "github.com/stratos-net/stratos/x/trustedfn"
	trustedfnkeeper "github.com/stratos-net/stratos/x/trustedfn/keeper"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

// maccPerms: module accounts and their permissions. v0.55: staking panics at
// keeper construction without key_rotation_fee_pool.
var maccPerms = map[string][]string{
	authtypes.FeeCollectorName:          nil,
	distrtypes.ModuleName:               nil,
	minttypes.ModuleName:                {authtypes.Minter},
	stakingtypes.BondedPoolName:         {authtypes.Burner, authtypes.Staking},
	stakingtypes.NotBondedPoolName:      {authtypes.Burner, authtypes.Staking},
	stakingtypes.KeyRotationFeePoolName: {authtypes.Burner},
	govtypes.ModuleName:                 {authtypes.Burner},
	registertypes.ModuleName:            {authtypes.Burner}, // node deposits; slashing burns them
	sdstypes.ModuleName:                 nil,                // prepaid STOS
	pottypes.ModuleName:                 {authtypes.Minter}, // traffic rewards until withdrawn
	trustedfntypes.ModuleName:           {authtypes.Burner}, // apps' escrow; burns §6.4's share
	trustedfntypes.SwapReserveName:      nil,                // §6.3.1's swap reserve
}

var (
	_ servertypes.Application = (*StratosApp)(nil)
)

type StratosApp struct {
	*baseapp.BaseApp

	cdc               codec.Codec
	amino             *codec.LegacyAmino
	txConfig          client.TxConfig
	interfaceRegistry codectypes.InterfaceRegistry
	keys              map[string]*storetypes.KVStoreKey

	AccountKeeper   authkeeper.AccountKeeper
	BankKeeper      bankkeeper.BaseKeeper
	StakingKeeper   *stakingkeeper.Keeper
	SlashingKeeper  slashingkeeper.Keeper
	MintKeeper      mintkeeper.Keeper
	DistrKeeper     distrkeeper.Keeper
	GovKeeper       *govkeeper.Keeper
	ConsensusKeeper consensuskeeper.Keeper
	AuthzKeeper     authzkeeper.Keeper
	RegisterKeeper  registerkeeper.Keeper
	SdsKeeper       sdskeeper.Keeper
	PotKeeper       potkeeper.Keeper
	TrustedfnKeeper trustedfnkeeper.Keeper

	ModuleManager *module.Manager
	BasicManager  module.BasicManager
	configurator  module.Configurator
}

// NewStratosApp is a servertypes.AppCreator-compatible constructor.
func NewStratosApp(logger log.Logger, db dbm.DB, _ io.Writer, loadLatest bool,
	appOpts servertypes.AppOptions, baseAppOptions ...func(*baseapp.BaseApp),
) *StratosApp {
	enc := NewEncodingConfig()
	cdc, ir, txConfig := enc.Codec, enc.InterfaceRegistry, enc.TxConfig

	bApp := baseapp.NewBaseApp(AppName, logger, db, txConfig.TxDecoder(), baseAppOptions...)
	bApp.SetInterfaceRegistry(ir)
	bApp.SetTxEncoder(txConfig.TxEncoder())

	keys := storetypes.NewKVStoreKeys(
		authtypes.StoreKey, banktypes.StoreKey, stakingtypes.StoreKey, slashingtypes.StoreKey,
		minttypes.StoreKey, distrtypes.StoreKey, govtypes.StoreKey, consensustypes.StoreKey,
		authzkeeper.StoreKey, registertypes.StoreKey, sdstypes.StoreKey, pottypes.StoreKey,
		trustedfntypes.StoreKey,
	)

	app := &StratosApp{BaseApp: bApp, cdc: cdc, amino: enc.Amino, txConfig: txConfig, interfaceRegistry: ir, keys: keys}
	govAuthority := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	accCodec := address.NewBech32Codec(AccountAddressPrefix)
	valCodec := address.NewBech32Codec(ValidatorAddressPrefix)
	consCodec := address.NewBech32Codec(ConsNodeAddressPrefix)

	app.ConsensusKeeper = consensuskeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[consensustypes.StoreKey]), govAuthority, runtime.EventService{})
	bApp.SetParamStore(app.ConsensusKeeper.ParamsStore)

	app.AccountKeeper = authkeeper.NewAccountKeeper(cdc, runtime.NewKVStoreService(keys[authtypes.StoreKey]),
		authtypes.ProtoBaseAccount, maccPerms, accCodec, AccountAddressPrefix, govAuthority)
	app.BankKeeper = bankkeeper.NewBaseKeeper(cdc, runtime.NewKVStoreService(keys[banktypes.StoreKey]),
		app.AccountKeeper, BlockedAddresses(), govAuthority, logger)
	app.StakingKeeper = stakingkeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[stakingtypes.StoreKey]),
		app.AccountKeeper, app.BankKeeper, govAuthority, valCodec, consCodec)
	app.MintKeeper = mintkeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[minttypes.StoreKey]),
		app.StakingKeeper, app.AccountKeeper, app.BankKeeper, authtypes.FeeCollectorName, govAuthority)
	app.DistrKeeper = distrkeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[distrtypes.StoreKey]),
		app.AccountKeeper, app.BankKeeper, app.StakingKeeper, authtypes.FeeCollectorName, govAuthority)
	app.SlashingKeeper = slashingkeeper.NewKeeper(cdc, enc.Amino, runtime.NewKVStoreService(keys[slashingtypes.StoreKey]),
		app.StakingKeeper, govAuthority)
	app.StakingKeeper.SetHooks(stakingtypes.NewMultiStakingHooks(app.DistrKeeper.Hooks(), app.SlashingKeeper.Hooks()))
	app.AuthzKeeper = authzkeeper.NewKeeper(runtime.NewKVStoreService(keys[authzkeeper.StoreKey]), cdc, app.MsgServiceRouter(), app.AccountKeeper)
	// The Stratos modules (DESIGN §4): the node registry, prepay and index
	// anchors, Proof-of-Traffic rewards.
	app.RegisterKeeper = registerkeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[registertypes.StoreKey]),
		accCodec, app.BankKeeper, app.DistrKeeper, govAuthority)
	app.SdsKeeper = sdskeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[sdstypes.StoreKey]), accCodec,
		app.BankKeeper, app.RegisterKeeper, govAuthority)
	app.PotKeeper = potkeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[pottypes.StoreKey]), accCodec,
		app.BankKeeper, app.DistrKeeper, app.RegisterKeeper, app.SdsKeeper, govAuthority)
	app.SdsKeeper.SetPeriodKeeper(app.PotKeeper)
	app.TrustedfnKeeper = trustedfnkeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[trustedfntypes.StoreKey]),
		accCodec, app.BankKeeper, app.DistrKeeper, app.RegisterKeeper, govAuthority, authtypes.FeeCollectorName)
	govConfig := govtypes.DefaultConfig()
	app.GovKeeper = govkeeper.NewKeeper(cdc, runtime.NewKVStoreService(keys[govtypes.StoreKey]),
		app.AccountKeeper, app.BankKeeper, app.DistrKeeper, app.MsgServiceRouter(), govConfig, govAuthority,
		govkeeper.NewDefaultCalculateVoteResultsAndVotingPower(app.StakingKeeper))

	app.ModuleManager = module.NewManager(
		genutil.NewAppModule(app.AccountKeeper, app.StakingKeeper, app, txConfig),
		auth.NewAppModule(cdc, app.AccountKeeper, nil),
		bank.NewAppModule(cdc, app.BankKeeper, app.AccountKeeper),
		staking.NewAppModule(cdc, app.StakingKeeper, app.AccountKeeper, app.BankKeeper),
		slashing.NewAppModule(cdc, app.SlashingKeeper, app.AccountKeeper, app.BankKeeper, app.StakingKeeper, ir),
		mint.NewAppModule(cdc, app.MintKeeper, app.AccountKeeper, nil),
		distr.NewAppModule(cdc, app.DistrKeeper, app.AccountKeeper, app.BankKeeper, app.StakingKeeper),
		gov.NewAppModule(cdc, app.GovKeeper, app.AccountKeeper, app.BankKeeper),
		consensus.NewAppModule(cdc, app.ConsensusKeeper),
		authzmodule.NewAppModule(cdc, app.AuthzKeeper, app.AccountKeeper, app.BankKeeper, ir),
		registermodule.NewAppModule(cdc, app.RegisterKeeper),
		sdsmodule.NewAppModule(app.SdsKeeper),
		potmodule.NewAppModule(cdc, app.PotKeeper),
		trustedfnmodule.NewAppModule(cdc, app.TrustedfnKeeper),
	)
	app.BasicManager = module.NewBasicManagerFromManager(app.ModuleManager, map[string]module.AppModuleBasic{
		genutiltypes.ModuleName: genutil.NewAppModuleBasic(genutiltypes.DefaultMessageValidator),
		govtypes.ModuleName:     gov.NewAppModuleBasic(nil),
	})
	app.BasicManager.RegisterLegacyAminoCodec(enc.Amino)
	app.BasicManager.RegisterInterfaces(ir)

	app.ModuleManager.SetOrderPreBlockers(authtypes.ModuleName)
	app.ModuleManager.SetOrderBeginBlockers(minttypes.ModuleName, distrtypes.ModuleName, slashingtypes.ModuleName,
		stakingtypes.ModuleName, authz.ModuleName)
	// bank first: its EndBlock credits Block-STM virtual accounts.
	app.ModuleManager.SetOrderEndBlockers(banktypes.ModuleName, govtypes.ModuleName, stakingtypes.ModuleName, registertypes.ModuleName,
		trustedfntypes.ModuleName)
	genesisOrder := []string{
		consensustypes.ModuleName, authtypes.ModuleName, banktypes.ModuleName, distrtypes.ModuleName,
		stakingtypes.ModuleName, slashingtypes.ModuleName, govtypes.ModuleName, minttypes.ModuleName,
		registertypes.ModuleName, sdstypes.ModuleName, pottypes.ModuleName, trustedfntypes.ModuleName,
		genutiltypes.ModuleName, authz.ModuleName,
	}
	app.ModuleManager.SetOrderInitGenesis(genesisOrder...)
	app.ModuleManager.SetOrderExportGenesis(genesisOrder...)

	app.configurator = module.NewConfigurator(cdc, app.MsgServiceRouter(), app.GRPCQueryRouter())
	if err := app.ModuleManager.RegisterServices(app.configurator); err != nil {
		panic(err)
	}
	// Services autocli (client/v2) and reflection clients rely on.
	autocliv1.RegisterQueryServer(app.GRPCQueryRouter(), runtimeservices.NewAutoCLIQueryService(app.ModuleManager.Modules))
	reflectionSvc, err := runtimeservices.NewReflectionService()
	if err != nil {
		panic(err)
	}
	reflectionv1.RegisterReflectionServiceServer(app.GRPCQueryRouter(), reflectionSvc)

	app.MountKVStores(keys)

	anteHandler, err := ante.NewAnteHandler(ante.HandlerOptions{
		AccountKeeper:   app.AccountKeeper,
		BankKeeper:      app.BankKeeper,
		SignModeHandler: txConfig.SignModeHandler(),
		SigGasConsumer:  ante.DefaultSigVerificationGasConsumer,
	})
	if err != nil {
		panic(err)
	}
	app.SetAnteHandler(anteHandler)
	app.SetInitChainer(app.InitChainer)
	app.SetPreBlocker(app.PreBlocker)
	app.SetBeginBlocker(app.BeginBlocker)
	app.SetEndBlocker(app.EndBlocker)

	if loadLatest {
		if err := app.LoadLatestVersion(); err != nil {
			panic(fmt.Errorf("load latest version: %w", err))
		}
	}
	return app
}

func (app *StratosApp) InitChainer(ctx sdk.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	var genesisState map[string]json.RawMessage
	if err := json.Unmarshal(req.AppStateBytes, &genesisState); err != nil {
		return nil, err
	}
	return app.ModuleManager.InitGenesis(ctx, app.cdc, genesisState)
}

func (app *StratosApp) PreBlocker(ctx sdk.Context, _ *abci.RequestFinalizeBlock) (*sdk.ResponsePreBlock, error) {
	return app.ModuleManager.PreBlock(ctx)
}
func (app *StratosApp) BeginBlocker(ctx sdk.Context) (sdk.BeginBlock, error) {
	return app.ModuleManager.BeginBlock(ctx)
}
func (app *StratosApp) EndBlocker(ctx sdk.Context) (sdk.EndBlock, error) {
	return app.ModuleManager.EndBlock(ctx)
}

func (app *StratosApp) AppCodec() codec.Codec                           { return app.cdc }
func (app *StratosApp) TxConfig() client.TxConfig                       { return app.txConfig }
func (app *StratosApp) InterfaceRegistry() codectypes.InterfaceRegistry { return app.interfaceRegistry }

// DefaultGenesis returns default genesis for all modules (with ustos as bond denom).
func (app *StratosApp) DefaultGenesis() map[string]json.RawMessage {
	return app.BasicManager.DefaultGenesis(app.cdc)
}

func (app *StratosApp) RegisterAPIRoutes(apiSvr *api.Server, _ config.APIConfig) {
	clientCtx := apiSvr.ClientCtx
	authtx.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	cmtservice.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	nodeservice.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	app.BasicManager.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
}

func (app *StratosApp) RegisterTxService(clientCtx client.Context) {
	authtx.RegisterTxService(app.GRPCQueryRouter(), clientCtx, app.Simulate, app.interfaceRegistry)
}

func (app *StratosApp) RegisterTendermintService(clientCtx client.Context) {
	cmtApp := server.NewCometABCIWrapper(app)
	cmtservice.RegisterTendermintService(clientCtx, app.GRPCQueryRouter(), app.interfaceRegistry, cmtApp.Query)
}

func (app *StratosApp) RegisterNodeService(clientCtx client.Context, cfg config.Config) {
	nodeservice.RegisterNodeService(clientCtx, app.GRPCQueryRouter(), cfg, func() int64 {
		return app.CommitMultiStore().EarliestVersion()
	})
}

// BlockedAddresses: module accounts cannot receive plain bank sends.
func BlockedAddresses() map[string]bool {
	m := make(map[string]bool)
	for acc := range maccPerms {
		m[authtypes.NewModuleAddress(acc).String()] = true
	}
	return m
}

// NewCodecApp returns an app on an in-memory database that is never started:
// clients use it for the codecs, the interface registry and the module list
// (autocli, keyrings, transactions, default genesis).
func NewCodecApp() *StratosApp {
	return NewStratosApp(log.NewNopLogger(), dbm.NewMemDB(), nil, false, noOptions{})
}

type noOptions struct{}

func (noOptions) Get(string) any { return nil }
