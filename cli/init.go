package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stratos-net/stratos/chain"
	"github.com/stratos-net/stratos/home"
)

// newInitCmd is `stratos init`: the home of a validator of a real network,
// with the whitepaper's parameters. Accounts and validators then join the
// genesis through `stratos genesis ...`, as in any Cosmos chain.
func newInitCmd() *cobra.Command {
	var (
		cfg      chain.NodeConfig
		asJSON   bool
		homePath string
	)
	cmd := &cobra.Command{
		Use:   "init MONIKER --chain-id ID",
		Short: "Create a validator home for a real network (config, keys, genesis with the whitepaper's parameters)",
		Long: `Create a validator home: config/config.toml (10 s blocks), app.toml (gRPC for the
storage nodes, a minimum gas price), client.toml, the node and consensus keys, and a
genesis.json with every module's defaults (x/pot: 10-minute ledger periods).

Then, as in any Cosmos chain:
  stratos keys add val0 --home H
  stratos genesis add-genesis-account val0 1000000000000ustos --home H
  stratos genesis gentx val0 100000000000ustos --chain-id ID --home H
  stratos genesis collect-gentxs --home H
  stratos node start --role validator --home H`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Moniker, cfg.Home = args[0], homePath
			if cfg.ChainID == "" {
				return fmt.Errorf("--chain-id is required: every validator of a network uses the same one")
			}
			id, err := chain.InitNode(cfg)
			if err != nil {
				return err
			}
			out := struct {
				Moniker   string `json:"moniker"`
				ChainID   string `json:"chain_id"`
				NodeID    string `json:"node_id"`
				Home      string `json:"home"`
				BlockTime string `json:"block_time"`
			}{cfg.Moniker, cfg.ChainID, id, cfg.Home, cfg.BlockTime.String()}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "initialized %s for chain %s in %s\nnode ID %s (peers reach it at %s@<host>:<p2p port>)\n",
				out.Moniker, out.ChainID, out.Home, id, id)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&homePath, "home", home.Default(), "validator home directory (env STRATOS_HOME)")
	fl.StringVar(&cfg.ChainID, "chain-id", "", "the network's chain ID")
	fl.DurationVar(&cfg.BlockTime, "block-time", chain.DefaultBlockTime, "target time between blocks (CometBFT timeout_commit)")
	fl.StringVar(&cfg.P2PListen, "p2p-laddr", "", "CometBFT p2p listen address (default tcp://0.0.0.0:26656)")
	fl.StringVar(&cfg.RPCListen, "rpc-laddr", "", "CometBFT RPC listen address (default tcp://127.0.0.1:26657)")
	fl.StringVar(&cfg.GRPCListen, "grpc-address", "", "SDK gRPC address the storage nodes read (default localhost:9090)")
	fl.StringVar(&cfg.MinGasPrices, "min-gas-prices", chain.DefaultMinGasPrices, "the least gas price this validator accepts")
	fl.StringVar(&cfg.KeyringBackend, "keyring-backend", "os", "default keyring backend written to client.toml (os, file, test)")
	fl.BoolVar(&cfg.Overwrite, "overwrite", false, "replace an existing genesis.json")
	fl.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
