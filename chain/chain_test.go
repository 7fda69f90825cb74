package chain_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/stratos-net/stratos/app"
	"github.com/stratos-net/stratos/chain"

	"cosmossdk.io/log/v2"
)

func freeBasePort(t *testing.T, n int) int {
	p, err := chain.FreeBasePort(n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func waitHeight(t *testing.T, rpcAddr string, h int64, timeout time.Duration) int64 {
	t.Helper()
	c, err := rpchttp.New(rpcAddr, "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(timeout)
	var last int64
	for time.Now().Before(deadline) {
		st, err := c.Status(context.Background())
		if err == nil {
			last = st.SyncInfo.LatestBlockHeight
			if last >= h {
				return last
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("height %d not reached on %s (last %d)", h, rpcAddr, last)
	return 0
}

// clientFor builds a client.Context + tx.Factory that sign with the home's
// test keyring and broadcast over CometBFT RPC — the same objects the CLI uses.
func clientFor(t *testing.T, home, chainID, rpcAddr, from string) (client.Context, tx.Factory) {
	t.Helper()
	enc := app.NewEncodingConfig()
	tmp := app.NewCodecApp()
	kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, home, nil, tmp.AppCodec())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := kr.Key(from)
	if err != nil {
		t.Fatal(err)
	}
	fromAddr, _ := rec.GetAddress()
	rpcc, err := client.NewClientFromNode(rpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	cctx := client.Context{}.
		WithCodec(tmp.AppCodec()).
		WithInterfaceRegistry(tmp.InterfaceRegistry()).
		WithTxConfig(tmp.TxConfig()).
		WithLegacyAmino(enc.Amino).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithKeyring(kr).
		WithHomeDir(home).
		WithChainID(chainID).
		WithNodeURI(rpcAddr).
		WithClient(rpcc).
		WithFromName(from).
		WithFromAddress(fromAddr).
		WithBroadcastMode(flags.BroadcastSync).
		WithSkipConfirmation(true).
		WithOutput(os.Stdout).
		WithOutputFormat("json")
	f := tx.Factory{}.
		WithChainID(chainID).
		WithKeybase(kr).
		WithTxConfig(tmp.TxConfig()).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithGas(300_000).
		WithFees("3000" + app.BondDenom).
		WithSignMode(signing.SignMode_SIGN_MODE_DIRECT)
	return cctx, f
}

func grpcConn(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	tmp := app.NewCodecApp()
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(tmp.InterfaceRegistry()).GRPCCodec())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func balance(t *testing.T, conn *grpc.ClientConn, addr sdk.AccAddress, denom string) sdkmath.Int {
	t.Helper()
	res, err := banktypes.NewQueryClient(conn).Balance(context.Background(), &banktypes.QueryBalanceRequest{Address: addr.String(), Denom: denom})
	if err != nil {
		t.Fatal(err)
	}
	return res.Balance.Amount
}

func sendAndWait(t *testing.T, cctx client.Context, f tx.Factory, conn *grpc.ClientConn, to sdk.AccAddress, amt sdk.Coin) {
	t.Helper()
	before := balance(t, conn, to, amt.Denom)
	msg := banktypes.NewMsgSend(cctx.FromAddress, to, sdk.NewCoins(amt))
	if err := tx.BroadcastTx(cctx, f, msg); err != nil { // Prepare (acc num/seq via gRPC-over-RPC), sign, broadcast
		t.Fatal(err)
	}
	want := before.Add(amt.Amount)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if got := balance(t, conn, to, amt.Denom); got.Equal(want) {
			t.Logf("balance of %s is now %s%s (was %s)", to, got, amt.Denom, before)
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("balance never reached %s", want)
}

func TestSingleValidatorInProcess(t *testing.T) {
	dir := t.TempDir()
	base := freeBasePort(t, 1)
	tn, err := chain.InitTestnet(chain.TestnetConfig{Dir: dir, NumValidators: 1, BasePort: base, Accounts: []string{"alice"}, TimeoutCommit: chain.DevnetBlockTime,
		DBBackend: os.Getenv("STRATOS_TEST_DB")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := log.NewLogger(os.Stderr, log.LevelOption(zerolog.ErrorLevel))
	n, err := chain.StartNode(ctx, tn.Homes[0], logger)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := n.Stop(); err != nil {
			t.Log("stop:", err)
		}
	}()
	_, rpcPort, grpcPort := tn.Cfg.Ports(0)
	rpcAddr := fmt.Sprintf("tcp://127.0.0.1:%d", rpcPort)
	h := waitHeight(t, rpcAddr, 3, 60*time.Second)
	t.Logf("height %d reached", h)

	conn := grpcConn(t, fmt.Sprintf("127.0.0.1:%d", grpcPort))
	cctx, f := clientFor(t, tn.Homes[0], tn.Cfg.ChainID, rpcAddr, "user")
	// second denom present at genesis
	if b := balance(t, conn, tn.Accounts["user"], app.StableDenom); b.IsZero() {
		t.Fatal("no ustb at genesis")
	}
	sendAndWait(t, cctx, f, conn, tn.Accounts["alice"], sdk.NewInt64Coin(app.BondDenom, 12345))

	if !strings.HasPrefix(tn.Accounts["user"].String(), "st1") {
		t.Fatalf("bad prefix %s", tn.Accounts["user"])
	}

	// Issue 9: the REST (LCD) API that Cosmos wallets and explorers use.
	apiPort, _ := tn.Cfg.ServicePorts(0)
	url := fmt.Sprintf("http://127.0.0.1:%d/cosmos/bank/v1beta1/balances/%s", apiPort, tn.Accounts["alice"])
	var body []byte
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(url)
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("REST %s: %v %s", url, err, body)
		}
	}
	if !strings.Contains(string(body), `"denom":"ustos"`) {
		t.Fatalf("REST balances of alice: %s", body)
	}
}

func height(t *testing.T, rpcAddr string) int64 {
	t.Helper()
	c, err := rpchttp.New(rpcAddr, "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.SyncInfo.LatestBlockHeight
}

// TestFourValidatorsInProcess runs four validators in this one process (four
// homes, four CometBFT nodes, four apps) and checks BFT liveness: one of four
// down keeps blocks coming, two down halts the chain (2 of 4 is not more than
// 2/3 of the voting power), and restarting one resumes it with the state
// intact.
func TestFourValidatorsInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	base := freeBasePort(t, 4)
	tn, err := chain.InitTestnet(chain.TestnetConfig{Dir: dir, NumValidators: 4, BasePort: base, TimeoutCommit: chain.DevnetBlockTime})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := log.NewLogger(os.Stderr, log.LevelOption(zerolog.ErrorLevel))
	nodes := make([]*chain.Node, 4)
	start := func(i int) {
		t.Helper()
		n, err := chain.StartNode(ctx, tn.Homes[i], logger.With("validator", i))
		if err != nil {
			t.Fatalf("start validator %d: %v", i, err)
		}
		nodes[i] = n
	}
	stop := func(i int) {
		t.Helper()
		if err := nodes[i].Stop(); err != nil {
			t.Logf("stop validator %d: %v", i, err)
		}
		nodes[i] = nil
	}
	for i := range nodes {
		start(i)
	}
	defer func() {
		for i, n := range nodes {
			if n != nil {
				stop(i)
			}
		}
	}()
	rpc := func(i int) string {
		_, p, _ := tn.Cfg.Ports(i)
		return fmt.Sprintf("tcp://127.0.0.1:%d", p)
	}
	for i := range nodes {
		t.Logf("validator %d at height %d", i, waitHeight(t, rpc(i), 3, 120*time.Second))
	}
	_, _, grpc0 := tn.Cfg.Ports(0)
	conn0 := grpcConn(t, fmt.Sprintf("127.0.0.1:%d", grpc0))
	cctx, f := clientFor(t, tn.Homes[1], tn.Cfg.ChainID, rpc(1), "user")
	sendAndWait(t, cctx, f, conn0, tn.Accounts["node3"], sdk.NewInt64Coin(app.StableDenom, 4242))

	stop(3)
	h := height(t, rpc(0))
	waitHeight(t, rpc(0), h+3, 60*time.Second)
	stop(2)
	time.Sleep(3 * time.Second) // let a block in flight finish
	halted := height(t, rpc(0))
	time.Sleep(5 * time.Second) // five block times
	if got := height(t, rpc(0)); got > halted+1 {
		t.Fatalf("two of four validators down, yet height moved from %d to %d", halted, got)
	}
	start(3)
	waitHeight(t, rpc(0), halted+3, 120*time.Second)
	if b := balance(t, conn0, tn.Accounts["node3"], app.StableDenom); b.IsZero() {
		t.Fatal("transfer lost across the halt and restart")
	}
}
