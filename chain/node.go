package chain

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"

	cmtdb "github.com/cometbft/cometbft-db"
	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	pvm "github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/rpc/client/local"
	cmttypes "github.com/cometbft/cometbft/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/spf13/viper"
	"golang.org/x/sync/errgroup"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/server/api"
	srvconfig "github.com/cosmos/cosmos-sdk/server/config"
	servercmtlog "github.com/cosmos/cosmos-sdk/server/log"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/stratos-net/stratos/app"
)

// Node is a running validator: CometBFT + the ABCI app in this process, plus
// the SDK gRPC server (app.toml [grpc]) for queries and tx broadcast.
type Node struct {
	Home      string
	ChainID   string
	App       *app.StratosApp
	Comet     *node.Node
	CmtConfig *cmtcfg.Config
	AppConfig srvconfig.Config
	ClientCtx client.Context // wired to the in-process node (local RPC client)

	cancel context.CancelFunc
	g      *errgroup.Group
	dbs    *dbTracker
}

// dbTracker opens CometBFT's databases and remembers them: Node.Stop closes
// the block and state stores but not the indexers' databases, whose file
// locks would then stop the same home from starting again in this process.
type dbTracker struct {
	mu  sync.Mutex
	dbs []cmtdb.DB
}

func (t *dbTracker) provide(ctx *cmtcfg.DBContext) (cmtdb.DB, error) {
	db, err := cmtcfg.DefaultDBProvider(ctx)
	if err != nil {
		return nil, err
	}
	sdb := &stoppingDB{DB: db}
	t.mu.Lock()
	t.dbs = append(t.dbs, sdb)
	t.mu.Unlock()
	return sdb, nil
}

// stoppingDB answers a read after Close as "not found" instead of an
// error: CometBFT's consensus reactor can still be in a peer's
// queryMaj23Routine when the node closes its block store, and the store
// panics on a read error ("panic: leveldb: closed", which killed a test
// binary in CI; the same race as cometbft/cometbft#1878). A read that races
// shutdown needs no answer; writes after Close still fail.
type stoppingDB struct {
	cmtdb.DB
	closed atomic.Bool
}

func (d *stoppingDB) Get(key []byte) ([]byte, error) {
	v, err := d.DB.Get(key)
	if err != nil && d.closed.Load() {
		return nil, nil
	}
	return v, err
}

func (d *stoppingDB) Has(key []byte) (bool, error) {
	ok, err := d.DB.Has(key)
	if err != nil && d.closed.Load() {
		return false, nil
	}
	return ok, err
}

func (d *stoppingDB) Close() error {
	d.closed.Store(true)
	return d.DB.Close()
}

// closeAll closes every database; one CometBFT closed already is not an error.
func (t *dbTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, db := range t.dbs {
		_ = db.Close()
	}
	t.dbs = nil
}

// StartValidator runs the validator in home until ctx is cancelled.
func StartValidator(ctx context.Context, home string) error {
	n, err := StartNode(ctx, home, log.NewLogger(newStderr(), log.LevelOption(levelInfo)))
	if err != nil {
		return err
	}
	<-ctx.Done()
	return n.Stop()
}

// loadConfig reads home/config/{config,app}.toml the same way the SDK's
// server.InterceptConfigsPreRunHandler does, into one viper used as AppOptions.
func loadConfig(home string) (*viper.Viper, *cmtcfg.Config, srvconfig.Config, error) {
	v := viper.New()
	v.Set(flags.FlagHome, home)
	v.SetConfigType("toml")
	v.SetConfigName("config")
	v.AddConfigPath(filepath.Join(home, "config"))
	if err := v.ReadInConfig(); err != nil {
		return nil, nil, srvconfig.Config{}, fmt.Errorf("read config.toml: %w", err)
	}
	cmtCfg := cmtcfg.DefaultConfig()
	if err := v.Unmarshal(cmtCfg); err != nil {
		return nil, nil, srvconfig.Config{}, err
	}
	cmtCfg.SetRoot(home)
	v.SetConfigName("app")
	if err := v.MergeInConfig(); err != nil {
		return nil, nil, srvconfig.Config{}, fmt.Errorf("read app.toml: %w", err)
	}
	appCfg, err := srvconfig.GetConfig(v)
	if err != nil {
		return nil, nil, srvconfig.Config{}, err
	}
	return v, cmtCfg, appCfg, appCfg.ValidateBasic()
}

// StartNode starts CometBFT in process with the Stratos ABCI app (local client,
// no socket) and the gRPC server; it returns once both are running.
func StartNode(ctx context.Context, home string, logger log.Logger) (*Node, error) {
	v, cmtCfg, appCfg, err := loadConfig(home)
	if err != nil {
		return nil, err
	}
	appGen, err := genutiltypes.AppGenesisFromFile(cmtCfg.GenesisFile())
	if err != nil {
		return nil, err
	}

	db, err := dbm.NewDB("application", server.GetAppDBBackend(v), filepath.Join(home, "data"))
	if err != nil {
		return nil, err
	}
	a := app.NewStratosApp(logger, db, nil, true, v, server.DefaultBaseappOptions(v)...)

	nodeKey, err := p2p.LoadOrGenNodeKey(cmtCfg.NodeKeyFile())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	dbs := &dbTracker{}
	cmtNode, err := node.NewNodeWithContext(ctx, cmtCfg,
		pvm.LoadOrGenFilePV(cmtCfg.PrivValidatorKeyFile(), cmtCfg.PrivValidatorStateFile()),
		nodeKey,
		proxy.NewLocalClientCreator(server.NewCometABCIWrapper(a)),
		func() (*cmttypes.GenesisDoc, error) { return appGen.ToGenesisDoc() },
		dbs.provide,
		node.DefaultMetricsProvider(cmtCfg.Instrumentation),
		servercmtlog.CometLoggerWrapper{Logger: logger.With("module", "cometbft")},
	)
	if err != nil {
		cancel()
		dbs.closeAll()
		_ = a.Close()
		return nil, fmt.Errorf("new comet node: %w", err)
	}
	if err := cmtNode.Start(); err != nil {
		cancel()
		dbs.closeAll()
		_ = a.Close()
		return nil, fmt.Errorf("start comet node: %w", err)
	}

	enc := app.NewEncodingConfig()
	clientCtx := client.Context{}.
		WithCodec(a.AppCodec()).
		WithInterfaceRegistry(a.InterfaceRegistry()).
		WithTxConfig(a.TxConfig()).
		WithLegacyAmino(enc.Amino).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithHomeDir(home).
		WithChainID(appGen.ChainID).
		WithClient(local.New(cmtNode))
	a.RegisterTxService(clientCtx)
	a.RegisterTendermintService(clientCtx)
	a.RegisterNodeService(clientCtx, appCfg)

	g, gctx := errgroup.WithContext(ctx)
	svrCtx := server.NewContext(v, cmtCfg, logger)
	grpcSrv, clientCtx, err := server.StartGrpcServer(gctx, g, appCfg.GRPC, clientCtx, svrCtx, a)
	if err != nil {
		cancel()
		_ = cmtNode.Stop()
		dbs.closeAll()
		_ = a.Close()
		return nil, fmt.Errorf("start grpc: %w", err)
	}
	if appCfg.API.Enable {
		// The REST (LCD) API Cosmos wallets and explorers use: every
		// query and the tx service, over the gRPC gateway.
		apiSrv := api.New(clientCtx, logger.With("module", "api-server"), grpcSrv)
		a.RegisterAPIRoutes(apiSrv, appCfg.API)
		g.Go(func() error { return apiSrv.Start(gctx, appCfg) })
	}
	return &Node{Home: home, ChainID: appGen.ChainID, App: a, Comet: cmtNode, CmtConfig: cmtCfg,
		AppConfig: appCfg, ClientCtx: clientCtx, cancel: cancel, g: g, dbs: dbs}, nil
}

// Stop shuts down gRPC, CometBFT and the app DB.
func (n *Node) Stop() error {
	n.cancel()
	var errs []error
	if n.Comet.IsRunning() {
		errs = append(errs, n.Comet.Stop())
		n.Comet.Wait()
	}
	if err := n.g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		errs = append(errs, err)
	}
	n.dbs.closeAll()
	errs = append(errs, n.App.Close())
	return errors.Join(errs...)
}
