// Package overview gathers what the network looks like, from the meta
// cluster and the chain, into one Report: `stratos status --json` prints it
// and the gateway's dashboard draws it (issue 9), so the two always agree.
package overview

import (
	"context"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/stratos-net/stratos/chain"
	"github.com/stratos-net/stratos/chainclient"
	"github.com/stratos-net/stratos/client"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
	trustedfntypes "github.com/stratos-net/stratos/x/trustedfn/types"
)

// Report is the network's state. Its JSON is `stratos status --json`.
type Report struct {
	MetaNodeID      string      `json:"meta_node_id"`
	Ready           bool        `json:"ready"`
	SliceSize       uint64      `json:"slice_size"`
	Replicas        uint32      `json:"replicas"`
	MinReplicas     uint32      `json:"min_replicas"`
	Files           uint64      `json:"files"`
	Slices          uint64      `json:"slices"`
	UnderReplicated uint64      `json:"under_replicated"`
	PendingRepairs  uint64      `json:"pending_repairs"` // repairs in flight
	Nodes           []Node      `json:"nodes"`
	MetaNodes       []MetaNode  `json:"meta_nodes"`
	Gateway         *Gateway    `json:"gateway,omitempty"`
	Chain           *chain.Info `json:"chain,omitempty"`
	// ChainEndpoints is where a validator of the chain serves.
	ChainEndpoints *ChainEndpoints `json:"chain_endpoints,omitempty"`
	ChainError     string          `json:"chain_error,omitempty"`
	// Blocks are the chain's latest block headers, newest first.
	Blocks []chain.Block `json:"blocks,omitempty"`
	Ledger *Ledger       `json:"ledger,omitempty"`
	Prepay *Prepay       `json:"prepay,omitempty"`
	// Owned lists files of the account, with where their replicas live:
	// the dashboard asks for it (Options.Files); status does not.
	Owned []File `json:"owned_files,omitempty"`
	// Apps are the account's trusted-function apps, OpenRounds the rounds
	// in progress on the network (storage challenges among them).
	Apps       []FnApp   `json:"apps,omitempty"`
	OpenRounds []FnRound `json:"open_rounds,omitempty"`
	Generated  string    `json:"generated"`
}

// FnApp is a trusted-function app (x/trustedfn).
type FnApp struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Status     string   `json:"status"`
	Nodes      int      `json:"nodes"`
	Rounds     uint64   `json:"rounds"`
	TrueRounds uint64   `json:"true_rounds"`
	Escrow     string   `json:"escrow"`
	LastRound  *FnRound `json:"last_round,omitempty"`
}

// FnRound is a commit-reveal round: an app's, or a storage challenge of a
// slice.
type FnRound struct {
	ID       uint64 `json:"id"`
	App      string `json:"app,omitempty"`
	Slice    string `json:"slice,omitempty"`
	Phase    string `json:"phase"`
	Result   bool   `json:"result"`
	Majority int    `json:"majority"`
	Members  int    `json:"members"`
	Opened   int64  `json:"opened"`
}

func fnRound(t trustedfntypes.Round) FnRound {
	r := FnRound{ID: t.Id, App: t.AppId, Slice: t.SliceId, Phase: t.Phase, Result: t.Result, Members: len(t.Members), Opened: t.OpenedHeight}
	for _, m := range t.Members {
		if m.Status == "majority" {
			r.Majority++
		}
	}
	return r
}

// trustedFunctions fills the account's apps and the rounds in progress.
func trustedFunctions(ctx context.Context, r *Report, v *chainclient.View, account string) {
	if account != "" {
		apps, err := v.FnApps(ctx, account)
		if err != nil {
			return
		}
		for _, a := range apps {
			fa := FnApp{ID: a.Id, Name: a.Name, Status: strings.TrimPrefix(a.Status.String(), "APP_STATUS_"), Nodes: len(a.Nodes),
				Rounds: a.Stats.Rounds, TrueRounds: a.Stats.TrueRounds, Escrow: a.Escrow.String()}
			if rounds, err := v.FnRounds(ctx, a.Id, 1); err == nil && len(rounds) > 0 {
				last := fnRound(rounds[0])
				fa.LastRound = &last
			}
			r.Apps = append(r.Apps, fa)
		}
	}
	if open, err := v.FnOpenRounds(ctx, ""); err == nil {
		for _, t := range open {
			r.OpenRounds = append(r.OpenRounds, fnRound(t))
		}
	}
}

// ChainEndpoints are a validator's endpoints: CometBFT RPC, gRPC, the
// REST (LCD) API and CometBFT's Prometheus metrics.
type ChainEndpoints struct {
	RPC     string `json:"rpc,omitempty"`
	GRPC    string `json:"grpc,omitempty"`
	REST    string `json:"rest,omitempty"`
	Metrics string `json:"metrics,omitempty"`
}

// Gateway is where the network's HTTP gateway serves.
type Gateway struct {
	S3        string `json:"s3"`     // the S3 endpoint
	Stream    string `json:"stream"` // /stream/<path>, where the gateway streams an account's files
	Dashboard string `json:"dashboard"`
	Shares    string `json:"shares"` // share links start with it
}

// GatewayAt is the gateway whose base URL is base.
func GatewayAt(base string) *Gateway {
	base = strings.TrimSuffix(base, "/")
	return &Gateway{S3: base, Stream: base + "/stream/", Dashboard: base + "/", Shares: base + "/s/"}
}

// Node is a resource node as the meta leader sees it.
type Node struct {
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

// MetaNode is one meta node as it sees itself (DESIGN §5.2).
type MetaNode struct {
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

// Ledger is x/pot's ledger clock and the last reported period's traffic
// (DESIGN §7).
type Ledger struct {
	Period        uint64 `json:"period"` // the current one
	PeriodEnd     string `json:"period_end"`
	PeriodSeconds uint64 `json:"period_seconds"`
	LastReported  uint64 `json:"last_reported"`
	Reported      bool   `json:"reported"` // some period has been reported
	// Nodes are the resource nodes of the last reported period's report,
	// by rank (most traffic first), with the rewards credited so far.
	Nodes []LedgerNode `json:"nodes"`
	Error string       `json:"error,omitempty"`
}

// LedgerNode is one resource node's traffic in the last reported period.
type LedgerNode struct {
	ID      string `json:"id"`
	Traffic uint64 `json:"traffic"` // bytes
	Rank    int    `json:"rank"`    // 1 is the most traffic
	Rewards string `json:"rewards"` // ustos credited so far
}

// Prepay is what the account has prepaid for traffic and storage.
type Prepay struct {
	Account string `json:"account"`
	Ustos   uint64 `json:"ustos"`
}

// File is a file of the account and where its slices live.
type File struct {
	Path      string   `json:"path"`
	Size      int64    `json:"size"`
	Encrypted bool     `json:"encrypted,omitempty"`
	Slices    int      `json:"slices"`
	Holders   []string `json:"holders"` // node IDs holding any of its slices
	// MinCopies is the fewest replicas any of its slices has.
	MinCopies int `json:"min_copies"`
}

// Network is what Collect asks of the meta cluster (a *client.Client).
type Network interface {
	Status(ctx context.Context) (*metav1.StatusResponse, error)
	MetaNodes(ctx context.Context) []client.MetaView
	List(ctx context.Context, dir string) ([]*metav1.DirEntry, error)
	Stat(ctx context.Context, pathOrID string) (*metav1.StatResponse, error)
}

// Options say where to look.
type Options struct {
	ChainRPC  string // a validator's CometBFT RPC, tcp://host:port; empty: no chain
	ChainGRPC string // a validator's gRPC, host:port: ledger and prepay
	// ChainREST and ChainMetrics are shown as they are (status lists the
	// validator's endpoints).
	ChainREST, ChainMetrics string
	// Chain, if set, is a connection to ChainGRPC kept open by a caller
	// that collects often (the dashboard); else each Collect dials.
	Chain   *chainclient.View
	Account string // whose prepay and files
	Gateway string // the gateway's base URL, if any
	Blocks  int    // how many recent blocks; 0: none
	Files   int    // how many of the account's files; 0: none
	Now     func() time.Time
}

// Collect asks the meta cluster for the status (failing if it cannot),
// then the chain for the rest (whose errors land in the report).
func Collect(ctx context.Context, n Network, opts Options) (Report, error) {
	st, err := n.Status(ctx)
	if err != nil {
		return Report{}, err
	}
	r := FromStatus(st)
	r.MetaNodes = MetaNodes(n.MetaNodes(ctx))
	Complete(ctx, &r, n, opts)
	return r, nil
}

// Complete adds to r what does not come from the meta leader's status:
// the chain, the ledger, the prepay, the account's files, the gateway.
func Complete(ctx context.Context, r *Report, n Network, opts Options) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if opts.Gateway != "" {
		r.Gateway = GatewayAt(opts.Gateway)
	}
	if opts.ChainRPC != "" || opts.ChainGRPC != "" {
		r.ChainEndpoints = &ChainEndpoints{RPC: opts.ChainRPC, GRPC: opts.ChainGRPC, REST: opts.ChainREST, Metrics: opts.ChainMetrics}
	}
	if opts.ChainRPC != "" {
		if info, err := chain.Status(ctx, opts.ChainRPC); err != nil {
			r.ChainError = err.Error()
		} else {
			r.Chain = info
			if opts.Blocks > 0 {
				if b, err := chain.RecentBlocks(ctx, opts.ChainRPC, opts.Blocks); err == nil {
					r.Blocks = b
				}
			}
		}
	}
	if opts.Chain != nil || opts.ChainGRPC != "" {
		ledgerAndPrepay(ctx, r, opts)
	}
	if opts.Files > 0 {
		r.Owned = ownedFiles(ctx, n, opts.Files)
	}
	r.Generated = now().UTC().Format(time.RFC3339Nano)
}

func ledgerAndPrepay(ctx context.Context, r *Report, opts Options) {
	v := opts.Chain
	if v == nil {
		var err error
		if v, err = chainclient.Dial(opts.ChainGRPC); err != nil {
			r.Ledger = &Ledger{Error: err.Error(), Nodes: []LedgerNode{}}
			return
		}
		defer v.Close()
	}
	if opts.Account != "" {
		if amt, err := v.Prepaid(ctx, opts.Account); err == nil {
			r.Prepay = &Prepay{Account: opts.Account, Ustos: amt}
		}
	}
	trustedFunctions(ctx, r, v, opts.Account)
	p, err := v.Period(ctx)
	if err != nil {
		r.Ledger = &Ledger{Error: err.Error(), Nodes: []LedgerNode{}}
		return
	}
	l := &Ledger{Period: p.Current, PeriodEnd: p.End.UTC().Format(time.RFC3339), PeriodSeconds: uint64(p.Length / time.Second),
		LastReported: p.LastReported, Reported: p.Reported, Nodes: []LedgerNode{}}
	r.Ledger = l
	if !p.Reported {
		return
	}
	traffic, ok, err := v.Report(ctx, p.LastReported)
	if err != nil {
		l.Error = err.Error()
		return
	}
	if !ok {
		return
	}
	sort.SliceStable(traffic, func(i, j int) bool {
		if traffic[i].Bytes != traffic[j].Bytes {
			return traffic[i].Bytes > traffic[j].Bytes
		}
		return traffic[i].NodeID < traffic[j].NodeID
	})
	for i, t := range traffic {
		ln := LedgerNode{ID: t.NodeID, Traffic: t.Bytes, Rank: i + 1, Rewards: "0"}
		if rw, err := v.Rewards(ctx, t.NodeID); err == nil {
			ln.Rewards = rw
		}
		l.Nodes = append(l.Nodes, ln)
	}
}

// ownedFiles walks the account's namespace breadth-first for up to limit
// files (never /.uploads, the S3 parts in progress).
func ownedFiles(ctx context.Context, n Network, limit int) []File {
	out := []File{}
	dirs := []string{"/"}
	for len(dirs) > 0 && len(out) < limit {
		dir := dirs[0]
		dirs = dirs[1:]
		entries, err := n.List(ctx, dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			p := path.Join(dir, e.GetName())
			if e.GetDir() {
				if p != "/.uploads" {
					dirs = append(dirs, p)
				}
				continue
			}
			if len(out) >= limit {
				break
			}
			if f := e.GetFile(); f != nil {
				out = append(out, fileOf(ctx, n, f))
			}
		}
	}
	return out
}

func fileOf(ctx context.Context, n Network, f *metav1.FileEntry) File {
	out := File{Path: f.GetPath(), Size: client.PlainSize(f), Encrypted: f.GetEncrypted(), Slices: len(f.GetSlices()), Holders: []string{}}
	st, err := n.Stat(ctx, f.GetFileId())
	if err != nil {
		return out
	}
	seen := map[string]bool{}
	for i, s := range st.GetSlices() {
		if i == 0 || len(s.GetReplicas()) < out.MinCopies {
			out.MinCopies = len(s.GetReplicas())
		}
		for _, id := range s.GetReplicas() {
			if !seen[id] {
				seen[id] = true
				out.Holders = append(out.Holders, id)
			}
		}
	}
	slices.Sort(out.Holders)
	return out
}

// MetaNodes is how each meta node sees itself.
func MetaNodes(views []client.MetaView) []MetaNode {
	out := make([]MetaNode, 0, len(views))
	for _, v := range views {
		j := MetaNode{ID: v.Node.ID, Addr: v.Node.Addr}
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

// FromStatus is the part of the report the meta leader's status gives.
// The network is ready when at least min_replicas resource nodes are alive
// with free space.
func FromStatus(st *metav1.StatusResponse) Report {
	out := Report{
		MetaNodeID: st.GetMetaNodeId(), SliceSize: st.GetSliceSize(), Replicas: st.GetReplicas(), MinReplicas: st.GetMinReplicas(),
		Files: st.GetFiles(), Slices: st.GetSlices(), UnderReplicated: st.GetUnderReplicated(), PendingRepairs: st.GetPendingRepairs(),
		Nodes: []Node{}, MetaNodes: []MetaNode{},
	}
	alive := 0
	for _, n := range st.GetNodes() {
		j := Node{
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
