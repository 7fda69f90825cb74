package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/stratos-net/stratos/devnet"
	"github.com/stratos-net/stratos/home"
)

func newDevnetCmd() *cobra.Command {
	var dir string
	s := devnet.DefaultSettings()
	sliceSize := byteSize(s.SliceSize)
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a complete local network: a meta node and resource nodes on loopback",
		Long: `Run a complete local Stratos network, each node its own process, all state in --home:
chain validators (CometBFT in process), a meta node and resource nodes.
The home also holds a test keyring with funded accounts (user, node0, ...) and
config/client.toml, so keys, tx and query work with the same --home.
Prints where every node listens, then "devnet ready" once uploads are accepted.
Ctrl-C stops every node; running it again on the same --home resumes with every file.
Node addresses, IDs and PIDs are in <home>/devnet.json; logs in <home>/logs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s.SliceSize = int(sliceSize)
			if saved, ok, err := devnet.LoadSettings(dir); err != nil {
				return err
			} else if ok {
				if err := sameSettings(cmd, saved, s); err != nil {
					return err
				}
			}
			bin, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the stratos binary: %w", err)
			}
			return devnet.Run(cmd.Context(), devnet.Config{Home: dir, Settings: s, Binary: bin, Out: cmd.OutOrStdout()})
		},
	}
	addHomeFlag(cmd, &dir)
	cmd.AddCommand(newDevnetAddNodeCmd())
	fl := cmd.Flags()
	fl.IntVar(&s.Validators, "validators", s.Validators, "number of chain validators (4 shows BFT with one down)")
	fl.IntVar(&s.Metas, "meta", s.Metas, "number of meta nodes, one Raft cluster (1..7)")
	fl.IntVar(&s.Resources, "resource", s.Resources, "number of resource nodes")
	fl.IntVar(&s.Replicas, "replicas", s.Replicas, "replicas of every slice (R)")
	fl.IntVar(&s.MinReplicas, "min-replicas", s.MinReplicas, "an upload fails below this many replicas of a slice")
	fl.Var(&sliceSize, "slice-size", "slice size, e.g. 16MiB")
	fl.IntVar(&s.Byzantine, "byzantine", s.Byzantine, "resource nodes whose compute answers wrongly on purpose, to watch them lose rounds")
	return cmd
}

// sameSettings refuses flags that contradict an existing devnet home.
func sameSettings(cmd *cobra.Command, saved, asked devnet.Settings) error {
	check := func(flag string, have, want int) error {
		if cmd.Flags().Changed(flag) && have != want {
			return fmt.Errorf("the devnet in this home was created with --%s %d; use another --home for --%s %d", flag, have, flag, want)
		}
		return nil
	}
	for _, c := range []struct {
		flag       string
		have, want int
	}{
		{"validators", saved.Validators, asked.Validators},
		{"meta", max(1, saved.Metas), asked.Metas},
		{"resource", saved.Resources, asked.Resources},
		{"replicas", saved.Replicas, asked.Replicas},
		{"min-replicas", saved.MinReplicas, asked.MinReplicas},
		{"slice-size", saved.SliceSize, asked.SliceSize},
		{"byzantine", saved.Byzantine, asked.Byzantine},
	} {
		if err := check(c.flag, c.have, c.want); err != nil {
			return err
		}
	}
	return nil
}

func addHomeFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "home", home.Default(), "home directory (env STRATOS_HOME)")
}

func newDevnetAddNodeCmd() *cobra.Command {
	var dir, role string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add-node",
		Short: "Add a meta or resource node to the running devnet, registered on chain",
		Long: `Add a node to the devnet running on --home, as an operator joins a real network:
the node is registered in the chain's registry (x/register) with the minimum deposit,
started and supervised by the devnet, and kept in the home for its next start.
A meta node joins the cluster as an observer (it replicates the index, no vote) and
becomes a voter once more than 2/3 of the active meta nodes approve it on chain,
which the devnet does for them. A resource node is placed on once it is alive.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			progress := func(step string) { fmt.Fprintln(cmd.ErrOrStderr(), step) }
			info, err := devnet.AddNode(cmd.Context(), dir, role, progress)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), info)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s: %s %s, id %s, pid %d, log %s\n", info.Name, info.Role, info.Addr, info.ID, info.PID, info.Log)
			return nil
		},
	}
	addHomeFlag(cmd, &dir)
	cmd.Flags().StringVar(&role, "role", "", "meta or resource")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the node added as JSON")
	cmd.MarkFlagRequired("role")
	return cmd
}
