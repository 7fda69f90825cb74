package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stratos-net/stratos/chain"
	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/home"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

type statusJSON struct {
	MetaNodeID      string           `json:"meta_node_id"`
	Ready           bool             `json:"ready"`
	SliceSize       uint64           `json:"slice_size"`
	Replicas        uint32           `json:"replicas"`
	MinReplicas     uint32           `json:"min_replicas"`
	Files           uint64           `json:"files"`
	Slices          uint64           `json:"slices"`
	UnderReplicated uint64           `json:"under_replicated"`
	PendingRepairs  uint64           `json:"pending_repairs"`
	Nodes           []nodeStatusJSON `json:"nodes"`
	MetaNodes       []metaStatusJSON `json:"meta_nodes"`
	Gateway         *gatewayJSON     `json:"gateway,omitempty"`
	Chain           *chain.Info      `json:"chain,omitempty"`
	ChainError      string           `json:"chain_error,omitempty"`
}

// gatewayJSON is where the network's HTTP gateway serves.
type gatewayJSON struct {
	S3     string `json:"s3"`     // the S3 endpoint
	Stream string `json:"stream"` // /stream/<path>, where the gateway streams an account's files
}

type nodeStatusJSON struct {
	ID          string `json:"id"`
	Role        string `json:"role"`
	Addr        string `json:"addr"`
	Region      string `json:"region"`
	State       string `json:"state"`
	Capacity    uint64 `json:"capacity"`
	Free        uint64 `json:"free"`
	Slices      uint64 `json:"slices"`
	Connections uint32 `json:"connections"`
	LastSeen    string `json:"last_seen,omitempty"`
	// Disputes: claims of traffic beyond what downloaders signed for (the
	// node's standing, DESIGN §7: lower is better).
	Disputes uint64 `json:"disputes"`
}

// metaStatusJSON is one meta node as it sees itself (DESIGN §5.2).
type metaStatusJSON struct {
	ID           string `json:"id"`
	Addr         string `json:"addr"`
	State        string `json:"state"` // Leading, Following, Observing, Voting; or unreachable
	Voter        bool   `json:"voter"`
	RaftTerm     uint64 `json:"raft_term"`
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
	LeaderID     string `json:"leader_id"`
	Error        string `json:"error,omitempty"`
}

func metaStatuses(views []client.MetaView) []metaStatusJSON {
	out := make([]metaStatusJSON, 0, len(views))
	for _, v := range views {
		j := metaStatusJSON{ID: v.Node.ID, Addr: v.Node.Addr}
		if v.Err != nil {
			j.State, j.Error = "unreachable", v.Err.Error()
		} else if self := v.Status.GetSelf(); self != nil {
			j.State, j.Voter, j.RaftTerm = self.GetState(), self.GetVoter(), self.GetRaftTerm()
			j.AppliedIndex, j.CommitIndex, j.LeaderID = self.GetAppliedIndex(), self.GetCommitIndex(), self.GetLeaderId()
		}
		out = append(out, j)
	}
	return out
}

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
			var out statusJSON
			for {
				st, err := c.Status(ctx)
				if err == nil {
					out = toStatusJSON(st)
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
			out.MetaNodes = metaStatuses(c.MetaNodes(ctx))
			addChain(ctx, f.home, &out)
			if cc, err := home.LoadClient(f.home); err == nil && cc.Gateway != "" {
				out.Gateway = &gatewayJSON{S3: cc.Gateway, Stream: strings.TrimSuffix(cc.Gateway, "/") + "/stream/"}
			}
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

// addChain adds the chain's state when the home has a chain client config
// (config/client.toml, as a devnet writes it).
func addChain(ctx context.Context, dir string, out *statusJSON) {
	var cc struct {
		Node string `toml:"node"`
	}
	if err := home.ReadTOMLLoose(filepath.Join(dir, "config", "client.toml"), &cc); err != nil || cc.Node == "" {
		return
	}
	info, err := chain.Status(ctx, cc.Node)
	if err != nil {
		out.ChainError = err.Error()
		return
	}
	out.Chain = info
}

func toStatusJSON(st *metav1.StatusResponse) statusJSON {
	out := statusJSON{
		MetaNodeID: st.GetMetaNodeId(), SliceSize: st.GetSliceSize(), Replicas: st.GetReplicas(), MinReplicas: st.GetMinReplicas(),
		Files: st.GetFiles(), Slices: st.GetSlices(), UnderReplicated: st.GetUnderReplicated(), PendingRepairs: st.GetPendingRepairs(),
		Nodes: []nodeStatusJSON{},
	}
	alive := 0
	for _, n := range st.GetNodes() {
		j := nodeStatusJSON{
			ID: n.GetNode().GetNodeId(), Role: "resource", Addr: n.GetNode().GetAddr(), Region: n.GetNode().GetRegion(),
			State: n.GetState(), Capacity: n.GetLoad().GetCapacity(), Free: n.GetLoad().GetFree(),
			Slices: n.GetLoad().GetSlices(), Connections: n.GetLoad().GetConnections(), Disputes: n.GetDisputes(),
		}
		if ns := n.GetLastSeenUnixNano(); ns != 0 {
			j.LastSeen = time.Unix(0, ns).UTC().Format(time.RFC3339)
		}
		if j.State == "alive" && j.Free > 0 {
			alive++
		}
		out.Nodes = append(out.Nodes, j)
	}
	out.Ready = alive >= int(max(st.GetMinReplicas(), 1))
	return out
}

func printStatus(cmd *cobra.Command, s statusJSON) {
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
		fmt.Fprintf(w, "\ngateway: S3 endpoint %s, streaming %s<path>\n", s.Gateway.S3, s.Gateway.Stream)
	}
	switch {
	case s.Chain != nil:
		fmt.Fprintf(w, "\nchain %s: height %d, %d validators\n", s.Chain.ChainID, s.Chain.Height, len(s.Chain.Validators))
	case s.ChainError != "":
		fmt.Fprintf(w, "\nchain: %s\n", s.ChainError)
	}
}

// short is the first 12 characters of a node ID, for tables.
func short(id string) string { return id[:min(12, len(id))] }
