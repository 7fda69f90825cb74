package cli

import (
	"context"
	"os"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/cobra"

	"cosmossdk.io/client/v2/autocli"
	"cosmossdk.io/core/appmodule"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/config"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/keys"
	"github.com/cosmos/cosmos-sdk/client/rpc"
	"github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	runtimeservices "github.com/cosmos/cosmos-sdk/runtime/services"
	"github.com/cosmos/cosmos-sdk/server"
	authcli "github.com/cosmos/cosmos-sdk/x/auth/client/cli"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	genutilcli "github.com/cosmos/cosmos-sdk/x/genutil/client/cli"

	"github.com/stratos-net/stratos/app"
	"github.com/stratos-net/stratos/home"
)

// addChainCommands adds the Cosmos SDK's keys, tx and query commands, with
// its conventions (--home, --from, --yes, -o json, --keyring-backend, gas
// flags), and autocli's tx/query subcommands for every module of the app.
// The home of a devnet holds the test keyring and config/client.toml.
func addChainCommands(root *cobra.Command) error {
	// A throw-away app (in-memory database) gives the codecs and the module
	// list autocli builds its commands from.
	tempApp := app.NewCodecApp()
	enc := app.NewEncodingConfig()
	initCtx := client.Context{}.
		WithCodec(tempApp.AppCodec()).
		WithInterfaceRegistry(tempApp.InterfaceRegistry()).
		WithTxConfig(tempApp.TxConfig()).
		WithLegacyAmino(enc.Amino).
		WithInput(os.Stdin).
		WithAccountRetriever(authtypes.AccountRetriever{}).
		WithHomeDir(home.Default()).
		WithViper("STRATOS")

	setContext := func(cmd *cobra.Command, _ []string) error {
		// autocli prints with cobra's Println, which goes to stderr unless
		// an output is set: data belongs on stdout.
		cmd.SetOut(cmd.OutOrStdout())
		cmd.SetErr(cmd.ErrOrStderr())
		ctx := initCtx.WithCmdContext(cmd.Context()).WithOutput(cmd.OutOrStdout())
		ctx, err := client.ReadPersistentCommandFlags(ctx, cmd.Flags())
		if err != nil {
			return err
		}
		if ctx, err = config.ReadFromClientConfig(ctx); err != nil {
			return err
		}
		return client.SetCmdClientContextHandler(ctx, cmd)
	}
	keysCmd := keys.Commands()
	// The SDK gives keys --output without the -o that tx and query have.
	keysCmd.PersistentFlags().Lookup(flags.FlagOutput).Shorthand = "o"
	for _, c := range []*cobra.Command{keysCmd, queryCommand(), txCommand()} {
		c.PersistentPreRunE = setContext
		c.PersistentFlags().String(flags.FlagHome, home.Default(), "home directory with the keyring and config/client.toml (env STRATOS_HOME)")
		root.AddCommand(c)
	}

	// `stratos genesis add-genesis-account|gentx|collect-gentxs|validate`
	// on a home `stratos init` wrote: the SDK's own commands.
	gen := genutilcli.Commands(tempApp.TxConfig(), tempApp.BasicManager, home.Default())
	gen.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if err := setContext(cmd, args); err != nil {
			return err
		}
		// The handler fills the server context the command's context holds.
		cmd.SetContext(context.WithValue(cmd.Context(), server.ServerContextKey, server.NewDefaultContext()))
		return server.InterceptConfigsPreRunHandler(cmd, "", nil, cmtcfg.DefaultConfig())
	}
	// validate has no --home of its own; the others' shadow this one.
	gen.PersistentFlags().String(flags.FlagHome, home.Default(), "validator home directory (env STRATOS_HOME)")
	root.AddCommand(gen)

	mods := map[string]appmodule.AppModule{}
	for name, m := range tempApp.ModuleManager.Modules {
		if am, ok := m.(appmodule.AppModule); ok {
			mods[name] = am
		}
	}
	opts := autocli.AppOptions{
		Modules:               mods,
		ModuleOptions:         runtimeservices.ExtractAutoCLIOptions(tempApp.ModuleManager.Modules),
		AddressCodec:          address.NewBech32Codec(app.AccountAddressPrefix),
		ValidatorAddressCodec: runtime.ValidatorAddressCodec(address.NewBech32Codec(app.ValidatorAddressPrefix)),
		ConsensusAddressCodec: runtime.ConsensusAddressCodec(address.NewBech32Codec(app.ConsNodeAddressPrefix)),
		ClientCtx:             initCtx,
	}
	return opts.EnhanceRootCommand(root)
}

func queryCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Query the chain", RunE: client.ValidateCmd}
	cmd.AddCommand(
		rpc.QueryEventForTxCmd(),
		server.QueryBlockCmd(),
		server.QueryBlocksCmd(),
		server.QueryBlockResultsCmd(),
		authcli.QueryTxsByEventsCmd(),
		authcli.QueryTxCmd(),
	)
	return cmd
}

func txCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "tx", Short: "Sign and broadcast chain transactions", RunE: client.ValidateCmd}
	cmd.AddCommand(
		authcli.GetSignCommand(),
		authcli.GetBroadcastCommand(),
		authcli.GetEncodeCommand(),
		authcli.GetDecodeCommand(),
		authcli.GetSimulateCmd(),
	)
	return cmd
}
