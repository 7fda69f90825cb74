package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"cosmossdk.io/math"
	"github.com/spf13/cobra"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/chainclient"
	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/compute/caller"
	"github.com/stratos-net/stratos/compute/gas"
	"github.com/stratos-net/stratos/compute/service"
	"github.com/stratos-net/stratos/home"
	"github.com/stratos-net/stratos/trust"
	"github.com/stratos-net/stratos/x/trustedfn/round"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

// newFnCmd is `stratos fn`: trusted functions (DESIGN §8, issue 10).
func newFnCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fn",
		Short: "Trusted functions: deploy WebAssembly on nodes drawn at random, call it, see its rounds",
		Long: `A trusted function is a WebAssembly (WASI) module that several resource nodes run;
a call returns the answer more than the app's agreement threshold of them gave,
and commit-reveal rounds on chain (x/trustedfn) pay the nodes that agreed and
slash the ones that lied. Build a function in Go with
GOOS=wasip1 GOARCH=wasm go build (see examples/fn).`,
	}
	cmd.AddCommand(newFnDeployCmd(), newFnCallCmd(), newFnRoundCmd(), newFnAppsCmd(), newFnRoundsCmd(), newFnLogsCmd(), newFnTopUpCmd(), newFnStopCmd())
	return cmd
}

// chainClientConfig is what the home's config/client.toml (the Cosmos
// client config `stratos tx` uses) says about the chain.
type chainClientConfig struct {
	ChainID string `toml:"chain-id"`
	Node    string `toml:"node"`
	Backend string `toml:"keyring-backend"`
}

func loadChainClient(dir string) (chainClientConfig, error) {
	cc := chainClientConfig{Backend: chainclient.BackendOS}
	if err := home.ReadTOMLLoose(filepath.Join(dir, "config", "client.toml"), &cc); err != nil {
		return cc, fmt.Errorf("the chain's client config in %s/config/client.toml: %w (a devnet home has one)", dir, err)
	}
	if cc.ChainID == "" || cc.Node == "" {
		return cc, fmt.Errorf("%s/config/client.toml names no chain-id or node", dir)
	}
	return cc, nil
}

// fnChain opens the chain for reads and, if key is set, for signing.
type fnChain struct {
	view   *chainclient.View
	sender *chainclient.Sender
}

func openFnChain(dir, key string) (*fnChain, error) {
	cc, err := home.LoadClient(dir)
	if err != nil {
		return nil, err
	}
	if cc.ChainGRPC == "" {
		return nil, fmt.Errorf("%s/client.toml names no chain_grpc: trusted functions need the chain", dir)
	}
	v, err := chainclient.Dial(cc.ChainGRPC)
	if err != nil {
		return nil, err
	}
	out := &fnChain{view: v}
	if key == "" {
		return out, nil
	}
	tc, err := loadChainClient(dir)
	if err != nil {
		v.Close()
		return nil, err
	}
	out.sender, err = chainclient.NewSender(chainclient.SenderConfig{
		KeyringDir: dir, Backend: tc.Backend, Input: os.Stdin, Key: key, ChainID: tc.ChainID, RPC: tc.Node,
	})
	if err != nil {
		v.Close()
		return nil, err
	}
	return out, nil
}

func (c *fnChain) Close() { c.view.Close() }

// fromKey is --from, or the key in the home's client.toml.
func fromKey(dir, from string) (string, error) {
	if from != "" {
		return from, nil
	}
	cc, err := home.LoadClient(dir)
	if err != nil {
		return "", err
	}
	if cc.Key == "" {
		return "", errors.New("name the account key with --from")
	}
	return cc.Key, nil
}

// agreement parses "2/3".
func parseAgreement(s string) (uint32, uint32, error) {
	n, d, ok := strings.Cut(s, "/")
	num, err1 := strconv.ParseUint(n, 10, 32)
	den, err2 := strconv.ParseUint(d, 10, 32)
	if !ok || err1 != nil || err2 != nil || num == 0 || den == 0 || num > den {
		return 0, 0, fmt.Errorf("--agreement %q: want a fraction like 2/3 (1/1: all nodes)", s)
	}
	return uint32(num), uint32(den), nil
}

func newFnDeployCmd() *cobra.Command {
	var f clientFlags
	var name, agreement, escrow, baseFee, strPrice string
	var nodes uint32
	var every, commitTimeout, revealTimeout int64
	var maxUsage uint64
	var wait time.Duration
	var openSource bool
	cmd := &cobra.Command{
		Use:   "deploy MODULE.wasm --name NAME",
		Short: "Store a function's module on the network and create its app on chain",
		Long: `Deploy checks that the module can be metered, stores it on the storage network
under /fn/, creates the app in x/trustedfn with the escrow (ustb pays the nodes'
cost basis, ustos their profit, Stratosphere §6.3), waits for the chain to draw
its nodes at random, and prints the app ID.`,
		Example: "  stratos fn deploy ./hello.wasm --name hello --nodes 5 --rounds-every 20 --agreement 2/3 \\\n" +
			"      --escrow 100000000ustb,50000000ustos --from user",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			module, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if _, err := gas.Instrument(module, gas.DefaultOptions()); err != nil {
				return fmt.Errorf("%s cannot run as a trusted function: %w (build it with GOOS=wasip1 GOARCH=wasm)", args[0], err)
			}
			if name == "" {
				return errors.New("name the app with --name")
			}
			num, den, err := parseAgreement(agreement)
			if err != nil {
				return err
			}
			coins, err := sdk.ParseCoinsNormalized(escrow)
			if err != nil {
				return fmt.Errorf("--escrow %q: %w", escrow, err)
			}
			fee, ok := math.NewIntFromString(strings.TrimSuffix(baseFee, trustedfntypes.CostDenom))
			if !ok {
				return fmt.Errorf("--base-fee %q: want an amount of ustb", baseFee)
			}
			price, err := math.LegacyNewDecFromStr(strPrice)
			if err != nil {
				return fmt.Errorf("--str-price %q: %w", strPrice, err)
			}
			key, err := fromKey(f.home, f.from)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(module)
			codeHash := hex.EncodeToString(sum[:])
			codePath := "/fn/" + name + "-" + codeHash[:16] + ".wasm"
			if err := storeModule(ctx, &f, codePath, module); err != nil {
				return err
			}
			ch, err := openFnChain(f.home, key)
			if err != nil {
				return err
			}
			defer ch.Close()
			owner := ch.sender.From().String()
			before, err := ch.view.FnApps(ctx, owner)
			if err != nil {
				return err
			}
			err = ch.sender.CreateApp(ctx, &trustedfntypes.MsgCreateApp{
				Name: name, CodeHash: codeHash, CodePath: codePath, Nodes: nodes, RoundsEvery: every,
				AgreementNum: num, AgreementDen: den, CommitTimeout: commitTimeout, RevealTimeout: revealTimeout,
				BaseFee: fee, MaxUsage: maxUsage, StrPrice: price, Escrow: coins, OpenSource: openSource,
			})
			if err != nil {
				return fmt.Errorf("create app: %w", err)
			}
			app, err := waitNewApp(ctx, ch.view, owner, before, wait)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), app)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", app.Id)
			if app.Status == trustedfntypes.AppStatus_APP_STATUS_ACTIVE {
				fmt.Fprintf(cmd.OutOrStderr(), "app %s (%s) on %d nodes drawn at random: %s\n", app.Name, app.Id, len(app.Nodes), strings.Join(app.Nodes, " "))
			} else {
				fmt.Fprintf(cmd.OutOrStderr(), "app %s is %s: fewer than %d nodes offer compute yet; it starts when they do\n", app.Id, app.Status, app.NodesWanted)
			}
			return nil
		},
	}
	addClientFlags(cmd, &f)
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "the app's name")
	fl.Uint32Var(&nodes, "nodes", 3, "how many nodes run it (Stratosphere §4.3.3 (a))")
	fl.Int64Var(&every, "rounds-every", 20, "the least number of blocks between two rounds (§4.3.3 (b))")
	fl.StringVar(&agreement, "agreement", "2/3", "share of the nodes that must agree, more than it (1/1: all) (§4.3.3 (c))")
	fl.Int64Var(&commitTimeout, "commit-timeout", 0, "blocks the nodes have to commit in a round (0: 10)")
	fl.Int64Var(&revealTimeout, "reveal-timeout", 0, "blocks the app and the nodes have to reveal (0: 10)")
	fl.StringVar(&escrow, "escrow", "1000000000ustb,1000000000ustos", "prepayment for the nodes: ustb for their cost basis, ustos for profit (§6.3)")
	fl.StringVar(&baseFee, "base-fee", "1000ustb", "each paid node's cost basis per round")
	fl.Uint64Var(&maxUsage, "max-usage", 1_000_000_000, "the most gas one node bills per round")
	fl.StringVar(&strPrice, "str-price", "1", "the price of one ustos in ustb, fixed with this escrow (§6.3.3)")
	fl.BoolVar(&openSource, "open-source", false, "mark the app open source (its reputation, §4.5)")
	fl.DurationVar(&wait, "wait", 30*time.Second, "how long to wait for the chain to draw the nodes")
	return cmd
}

// storeModule puts the module on the storage network (if not there yet).
func storeModule(ctx context.Context, f *clientFlags, path string, module []byte) error {
	c, err := f.open()
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Put(ctx, path, bytes.NewReader(module), int64(len(module)), client.PutOptions{}); err != nil && !errors.Is(err, client.ErrExists) {
		return explain(fmt.Errorf("store the module at %s: %w", path, err), f.home)
	}
	return nil
}

// waitNewApp returns the owner's app that is not in before, once it is
// active or wait has passed.
func waitNewApp(ctx context.Context, v *chainclient.View, owner string, before []trustedfntypes.App, wait time.Duration) (trustedfntypes.App, error) {
	known := map[string]bool{}
	for _, a := range before {
		known[a.Id] = true
	}
	deadline := time.Now().Add(wait)
	for {
		apps, err := v.FnApps(ctx, owner)
		if err != nil {
			return trustedfntypes.App{}, err
		}
		for _, a := range apps {
			if !known[a.Id] && (a.Status == trustedfntypes.AppStatus_APP_STATUS_ACTIVE || time.Now().After(deadline)) {
				return a, nil
			}
		}
		if time.Now().After(deadline) {
			return trustedfntypes.App{}, errors.New("the app was created but is not listed on chain yet; see `stratos fn apps`")
		}
		select {
		case <-ctx.Done():
			return trustedfntypes.App{}, ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func newFnCallCmd() *cobra.Command {
	var f clientFlags
	var input string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "call APP FUNCTION",
		Short: "Call a function on every node of its app and print the answer they agreed on",
		Long: `Call sends the call to every node of the app at once (with the same seed and
clock, so honest nodes compute the same bytes), checks each node's signed
answer, and prints the output that more than the app's agreement threshold of
the nodes gave. --json also says which nodes agreed and what the others said.
Nodes that lack the module get it from the storage network first.`,
		Example: "  stratos fn call app1... greet --input '{\"name\":\"Ada\"}' --json\n  stratos fn call app1... count --input @words.txt",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := readInput(input)
			if err != nil {
				return err
			}
			ch, err := openFnChain(f.home, "")
			if err != nil {
				return err
			}
			defer ch.Close()
			cfg := caller.DefaultConfig()
			cfg.Chain, cfg.Timeout = chainclient.CallerChain{View: ch.view}, timeout
			cfg.Module = func(ctx context.Context, app string) ([]byte, error) { return fetchModule(ctx, &f, ch.view, app) }
			cl, err := caller.New(cfg)
			if err != nil {
				return err
			}
			res, err := cl.Call(cmd.Context(), args[0], args[1], in)
			if f.json && (err == nil || errors.Is(err, caller.ErrNoAgreement)) {
				if perr := printJSON(cmd.OutOrStdout(), res); perr != nil {
					return perr
				}
				return err
			}
			if err != nil {
				return err
			}
			if res.FnError != "" {
				return fmt.Errorf("the function failed, on %d nodes alike: %s", len(res.Agreed), res.FnError)
			}
			cmd.OutOrStdout().Write(res.Output)
			fmt.Fprintf(cmd.ErrOrStderr(), "agreed by %d of %d nodes (%d needed), %d gas\n", len(res.Agreed), len(res.Answers), res.Quorum, res.GasUsed)
			return nil
		},
	}
	addClientFlags(cmd, &f)
	cmd.Flags().StringVar(&input, "input", "", "the call's input: text, @FILE, or - for standard input")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for each node")
	return cmd
}

func readInput(s string) ([]byte, error) {
	switch {
	case s == "-":
		return io.ReadAll(os.Stdin)
	case strings.HasPrefix(s, "@"):
		return os.ReadFile(s[1:])
	}
	return []byte(s), nil
}

// fetchModule reads an app's module from the storage network and checks
// it against the code hash on chain.
func fetchModule(ctx context.Context, f *clientFlags, v *chainclient.View, appID string) ([]byte, error) {
	app, err := v.FnApp(ctx, appID)
	if err != nil {
		return nil, err
	}
	c, err := f.open()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var buf bytes.Buffer
	if _, err := c.Get(ctx, app.CodePath, &buf, client.GetOptions{}); err != nil {
		return nil, fmt.Errorf("read the module %s: %w", app.CodePath, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if hex.EncodeToString(sum[:]) != app.CodeHash {
		return nil, fmt.Errorf("%s does not hash to the app's code %s", app.CodePath, app.CodeHash)
	}
	return buf.Bytes(), nil
}

func newFnAppsCmd() *cobra.Command {
	var f clientFlags
	var all bool
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "List the account's apps (--all: every app)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ch, err := openFnChain(f.home, "")
			if err != nil {
				return err
			}
			defer ch.Close()
			owner := ""
			if !all {
				c, err := f.open()
				if err != nil {
					return err
				}
				owner = c.Owner()
				c.Close()
			}
			apps, err := ch.view.FnApps(cmd.Context(), owner)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), apps)
			}
			for _, a := range apps {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %-16s %-8s %d nodes  rounds %d (%d true)  escrow %s\n", a.Id, a.Name,
					strings.TrimPrefix(a.Status.String(), "APP_STATUS_"), len(a.Nodes), a.Stats.Rounds, a.Stats.TrueRounds, a.Escrow)
			}
			return nil
		},
	}
	addClientFlags(cmd, &f)
	cmd.Flags().BoolVar(&all, "all", false, "every account's apps")
	return cmd
}

func newFnRoundsCmd() *cobra.Command {
	var f clientFlags
	var limit uint32
	cmd := &cobra.Command{
		Use:   "rounds APP",
		Short: "List an app's rounds, newest first: nodes, commits, reveals, result, payments and slashes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, err := openFnChain(f.home, "")
			if err != nil {
				return err
			}
			defer ch.Close()
			rounds, err := ch.view.FnRounds(cmd.Context(), args[0], limit)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), rounds)
			}
			if len(rounds) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "app %s has had no rounds yet\n", args[0])
			}
			for _, r := range rounds {
				fmt.Fprintf(cmd.OutOrStdout(), "round %d  opened %d  %s  result %v\n", r.Id, r.OpenedHeight, r.Phase, r.Result)
				for _, m := range r.Members {
					fmt.Fprintf(cmd.OutOrStdout(), "  %s  %-9s paid %s  slashed %s\n", short(m.NodeId), m.Status, m.Paid, m.Slashed)
				}
			}
			return nil
		},
	}
	addClientFlags(cmd, &f)
	cmd.Flags().Uint32Var(&limit, "limit", 20, "at most this many rounds")
	return cmd
}

func newFnTopUpCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:     "top-up APP COINS",
		Short:   "Add to an app's escrow",
		Example: "  stratos fn top-up app1... 100000000ustb,50000000ustos",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			coins, err := sdk.ParseCoinsNormalized(args[1])
			if err != nil {
				return fmt.Errorf("coins %q: %w", args[1], err)
			}
			return fnTx(cmd, &f, func(ctx context.Context, s *chainclient.Sender) error { return s.TopUpApp(ctx, args[0], coins) })
		},
	}
	addClientFlags(cmd, &f)
	return cmd
}

func newFnStopCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{
		Use:   "stop APP",
		Short: "Stop an app and refund its escrow (after its round in progress ends)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return fnTx(cmd, &f, func(ctx context.Context, s *chainclient.Sender) error { return s.StopApp(ctx, args[0]) })
		},
	}
	addClientFlags(cmd, &f)
	return cmd
}

func fnTx(cmd *cobra.Command, f *clientFlags, send func(context.Context, *chainclient.Sender) error) error {
	key, err := fromKey(f.home, f.from)
	if err != nil {
		return err
	}
	ch, err := openFnChain(f.home, key)
	if err != nil {
		return err
	}
	defer ch.Close()
	if err := send(cmd.Context(), ch.sender); err != nil {
		return err
	}
	if f.json {
		return printJSON(cmd.OutOrStdout(), map[string]bool{"ok": true})
	}
	fmt.Fprintln(cmd.OutOrStdout(), "done")
	return nil
}

func newFnRoundCmd() *cobra.Command {
	var f clientFlags
	var input string
	var spot bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "round APP FUNCTION",
		Short: "Run one commit-reveal round of a call on chain, as the app's owner, and print how it settled",
		Long: `Round runs Stratosphere §3.2's steps for one call: it draws a salt per node and
puts their hashes on chain, hands each node its salt and the call, reveals the
salts once the nodes have committed, and waits for the chain to tally, pay the
nodes that agreed and slash those that lied or stalled. With --spot the round
is also a spot check: this machine computes the answer itself first and seals
it in the round, so nodes that agree on a wrong answer are caught.`,
		Example: "  stratos fn round app1... greet --input '{\"name\":\"Ada\"}' --spot --json",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), wait)
			defer cancel()
			in, err := readInput(input)
			if err != nil {
				return err
			}
			key, err := fromKey(f.home, f.from)
			if err != nil {
				return err
			}
			ch, err := openFnChain(f.home, key)
			if err != nil {
				return err
			}
			defer ch.Close()
			tc, err := loadChainClient(f.home)
			if err != nil {
				return err
			}
			d, err := newDriver(&f, ch, tc.ChainID, key)
			if err != nil {
				return err
			}
			seed := make([]byte, 32)
			if _, err := rand.Read(seed); err != nil {
				return err
			}
			call := service.CallParams{Function: args[1], Input: in, Seed: seed, TimeUnixNano: time.Now().UnixNano()}
			r, deliveries, err := d.Run(ctx, args[0], call, spot)
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"round": r, "deliveries": deliveries})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "round %d of %s: result %v (opened at %d, closed at %d)\n", r.Id, r.AppId, r.Result, r.OpenedHeight, r.ClosedHeight)
			for _, m := range r.Members {
				fmt.Fprintf(cmd.OutOrStdout(), "  %s  %-9s paid %-24s slashed %s\n", short(m.NodeId), m.Status, m.Paid, m.Slashed)
			}
			for _, dl := range deliveries {
				if dl.Error != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "  %s refused its salt: %s\n", short(dl.Node), dl.Error)
				}
			}
			return nil
		},
	}
	addClientFlags(cmd, &f)
	cmd.Flags().StringVar(&input, "input", "", "the call's input: text, @FILE, or - for standard input")
	cmd.Flags().BoolVar(&spot, "spot", false, "make it a spot check: compute the answer here and seal it in the round")
	cmd.Flags().DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for the round to settle")
	return cmd
}

// expectLocally runs a call on this machine, as the nodes do, and returns
// its outcome's hash: what honest nodes commit to.
func expectLocally(ctx context.Context, f *clientFlags, v *chainclient.View, p service.CallParams) (round.Hash, error) {
	module, err := fetchModule(ctx, f, v, p.App)
	if err != nil {
		return round.Hash{}, err
	}
	return service.LocalOutcome(ctx, module, p)
}

// newDriver runs rounds as ch's signer: modules come from the storage
// network, and a spot check's answer is computed on this machine.
func newDriver(f *clientFlags, ch *fnChain, chainID, key string) (*trust.Driver, error) {
	owner, _, err := keyringSigner(f.home, key)
	if err != nil {
		return nil, err
	}
	return trust.NewDriver(trust.DriverConfig{
		ChainID: chainID, Chain: ch.view, Endpoints: ch.view, Rounds: ch.view, Sender: ch.sender, Owner: owner,
		Expect: func(ctx context.Context, p service.CallParams) (round.Hash, error) {
			return expectLocally(ctx, f, ch.view, p)
		},
		Module: func(ctx context.Context, app string) ([]byte, error) { return fetchModule(ctx, f, ch.view, app) },
	})
}

func newFnLogsCmd() *cobra.Command {
	var f clientFlags
	var limit int
	cmd := &cobra.Command{
		Use:   "logs APP",
		Short: "Show each node's log of the app's recent calls, with what the function wrote to stderr",
		Long: `Logs asks every node of the app for its log of the app's calls: when, which
function, the call and output hashes, the gas, the function's error and what it
wrote to stderr. Only the app's owner may read them: the request is signed with
--from's account key.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := fromKey(f.home, f.from)
			if err != nil {
				return err
			}
			owner, _, err := keyringSigner(f.home, key)
			if err != nil {
				return err
			}
			ch, err := openFnChain(f.home, "")
			if err != nil {
				return err
			}
			defer ch.Close()
			app, err := chainclient.CallerChain{View: ch.view}.App(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			type nodeLogs struct {
				Node    string             `json:"node"`
				Entries []service.LogEntry `json:"entries"`
				Error   string             `json:"error,omitempty"`
			}
			var all []nodeLogs
			for _, n := range app.Nodes {
				p := service.LogsParams{App: args[0], Limit: limit, UnixNano: time.Now().UnixNano(), OwnerKey: owner.PubKey()}
				if p.Signature, err = owner.Sign(service.LogsBytes(p)); err != nil {
					return err
				}
				nl := nodeLogs{Node: n.ID}
				if err := caller.RPC(cmd.Context(), http.DefaultClient, n.Endpoint, service.MethodLogs, p, &nl.Entries); err != nil {
					nl.Error = err.Error()
				}
				all = append(all, nl)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), all)
			}
			for _, nl := range all {
				fmt.Fprintf(cmd.OutOrStdout(), "node %s\n", nl.Node)
				if nl.Error != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "  (no log: %s)\n", nl.Error)
				}
				for _, e := range nl.Entries {
					fmt.Fprintf(cmd.OutOrStdout(), "  %s  %-12s call %s  output %s  %d gas", e.Time.Format(time.RFC3339), e.Function, short(e.Call), short(e.Output), e.GasUsed)
					if e.Error != "" {
						fmt.Fprintf(cmd.OutOrStdout(), "  error: %s", e.Error)
					}
					fmt.Fprintln(cmd.OutOrStdout())
					if e.Stderr != "" {
						fmt.Fprintf(cmd.OutOrStdout(), "    %s\n", strings.ReplaceAll(strings.TrimSpace(e.Stderr), "\n", "\n    "))
					}
				}
			}
			return nil
		},
	}
	addClientFlags(cmd, &f)
	cmd.Flags().IntVar(&limit, "limit", 20, "the last this many calls of each node (at most 1000)")
	return cmd
}
