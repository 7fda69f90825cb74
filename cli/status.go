package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/home"
	"github.com/stratos-net/stratos/overview"
)

func newStatusCmd() *cobra.Command {
	var f clientFlags
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the network's health; with --wait, wait until it serves requests",
		Long: `Show the meta cluster (every meta node's PoA state, Raft term, log position
and leader, as each sees itself), every resource node with its state and load, and the
number of files, slices and under-replicated slices. The network is ready when
at least min_replicas resource nodes are alive. With --wait, status retries
until it is ready and exits 1 if it is not ready in time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var cancel context.CancelFunc = func() {}
			if wait > 0 {
				ctx, cancel = context.WithTimeout(ctx, wait)
			}
			defer cancel()
			c, err := openWaiting(ctx, &f, wait > 0)
			if err != nil {
				return err
			}
			defer c.Close()
			var out overview.Report
			for {
				st, err := c.Status(ctx)
				if err == nil {
					out = overview.FromStatus(st)
					if out.Ready || wait == 0 {
						break
					}
				} else if wait == 0 {
					return explain(fmt.Errorf("status: %w", err), f.home)
				}
				select {
				case <-ctx.Done():
					if err != nil {
						return fmt.Errorf("network not reachable after %s: %w", wait, err)
					}
					return fmt.Errorf("network not ready after %s: fewer than %d resource nodes alive", wait, out.MinReplicas)
				case <-time.After(250 * time.Millisecond):
				}
			}
			out.MetaNodes = overview.MetaNodes(c.MetaNodes(ctx))
			overview.Complete(ctx, &out, c, overviewOptions(f.home, c))
			if f.json {
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else {
				printStatus(cmd, out)
			}
			if !out.Ready {
				return exitCode(1) // the same with or without --json
			}
			return nil
		},
	}
	addClientFlags(cmd, &f)
	cmd.Flags().DurationVar(&wait, "wait", 0, "wait up to this long for the network to be ready, e.g. 2m")
	return cmd
}

// openWaiting opens a client; with wait, a home whose network is still being
// created (no client.toml yet) is retried until ctx ends, and the client
// does not warn while the meta node is not up yet: waiting is the point.
func openWaiting(ctx context.Context, f *clientFlags, wait bool) (*client.Client, error) {
	for {
		c, err := f.open(func(cfg *client.Config) {
			if wait {
				cfg.Logger, cfg.RetryFor = slog.New(slog.DiscardHandler), time.Second
			}
		})
		if err == nil || !wait || !errors.Is(err, home.ErrNoNetwork) {
			return c, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// overviewOptions says where the home's network keeps what status shows
// beyond the meta cluster: the chain (config/client.toml's node, as a
// devnet writes it; client.toml's chain_grpc) and the gateway.
func overviewOptions(dir string, c *client.Client) overview.Options {
	var chainCC struct {
		Node string `toml:"node"`
	}
	_ = home.ReadTOMLLoose(filepath.Join(dir, "config", "client.toml"), &chainCC)
	opts := overview.Options{ChainRPC: chainCC.Node, Account: c.Owner()}
	if cc, err := home.LoadClient(dir); err == nil {
		opts.Gateway, opts.ChainGRPC, opts.ChainREST, opts.ChainMetrics = cc.Gateway, cc.ChainGRPC, cc.ChainREST, cc.ChainMetrics
	}
	return opts
}

func printStatus(cmd *cobra.Command, s overview.Report) {
	w := cmd.OutOrStdout()
	ready := "ready"
	if !s.Ready {
		ready = "NOT READY"
	}
	fmt.Fprintf(w, "network %s: meta node %s\nslices of %s, %d replicas (min %d)\nfiles %d, slices %d, under-replicated %d, repairs in flight %d\n\n",
		ready, s.MetaNodeID, humanBytes(int64(s.SliceSize)), s.Replicas, s.MinReplicas, s.Files, s.Slices, s.UnderReplicated, s.PendingRepairs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDR\tREGION\tSTATE\tFREE\tSLICES\tDISPUTES")
	for _, n := range s.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", n.ID, n.Addr, n.Region, n.State, humanBytes(int64(n.Free)), n.Slices, n.Disputes)
	}
	tw.Flush()
	if len(s.MetaNodes) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "META NODE\tADDR\tSTATE\tVOTER\tTERM\tAPPLIED\tCOMMIT\tLEADER")
		for _, m := range s.MetaNodes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%d\t%d\t%s\n", m.ID, m.Addr, m.State, m.Voter, m.RaftTerm, m.AppliedIndex, m.CommitIndex, short(m.LeaderID))
		}
		tw.Flush()
	}
	if s.Gateway != nil {
		fmt.Fprintf(w, "\ngateway: dashboard %s, S3 endpoint %s, streaming %s<path>, share links %s<token>\n", s.Gateway.Dashboard, s.Gateway.S3, s.Gateway.Stream, s.Gateway.Shares)
	}
	switch {
	case s.Chain != nil:
		fmt.Fprintf(w, "\nchain %s: height %d, %d validators\n", s.Chain.ChainID, s.Chain.Height, len(s.Chain.Validators))
	case s.ChainError != "":
		fmt.Fprintf(w, "\nchain: %s\n", s.ChainError)
	}
	if e := s.ChainEndpoints; e != nil {
		fmt.Fprintf(w, "chain endpoints: RPC %s, gRPC %s", e.RPC, e.GRPC)
		if e.REST != "" {
			fmt.Fprintf(w, ", REST %s", e.REST)
		}
		if e.Metrics != "" {
			fmt.Fprintf(w, ", metrics %s", e.Metrics)
		}
		fmt.Fprintln(w)
	}
}

// short is the first 12 characters of a node ID, for tables.
func short(id string) string { return id[:min(12, len(id))] }
