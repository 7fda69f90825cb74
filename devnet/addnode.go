package devnet

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/chain"
	"github.com/stratos-net/stratos/chainclient"
	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/home"
	"github.com/stratos-net/stratos/identity"
)

// ErrAddNode is wrapped by every error of adding a node to a running devnet.
var ErrAddNode = errors.New("cannot add the node")

// addTimeout bounds how long adding one node may take: a few transactions
// of a second's block each, and the node's start.
const addTimeout = 3 * time.Minute

// addNode adds a meta or resource node to the running devnet the way an
// operator joins a real network (DESIGN §4, §5.2): the node is registered
// in x/register, started, and, for a meta node, admitted by the approvals
// of the active meta nodes, until it votes in the cluster. The home keeps
// it: devnet.toml counts it, client.toml and the resource nodes' configs
// list a new meta node, so the next `stratos devnet` starts it again.
// progress is told each step as it is done.
func (s *supervisor) addNode(ctx context.Context, role string, progress func(string)) (NodeInfo, error) {
	s.addMu.Lock()
	defer s.addMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, addTimeout)
	defer cancel()
	if role != home.RoleMeta && role != home.RoleResource {
		return NodeInfo{}, fmt.Errorf("%w: --role %q: want meta or resource", ErrAddNode, role)
	}
	if s.settings.Validators == 0 {
		return NodeInfo{}, fmt.Errorf("%w: this devnet has no chain (--validators 0), whose registry admits new nodes; create one with a chain", ErrAddNode)
	}
	if role == home.RoleMeta && s.settings.metaCount() >= 7 {
		return NodeInfo{}, fmt.Errorf("%w: the devnet already runs %d meta nodes, the most a cluster has", ErrAddNode, s.settings.metaCount())
	}
	_, rpcPort, grpcPort := chain.TestnetConfig{BasePort: s.settings.ChainBasePort}.Ports(0)
	view, err := chainclient.Dial(fmt.Sprintf("127.0.0.1:%d", grpcPort))
	if err != nil {
		return NodeInfo{}, fmt.Errorf("%w: %w", ErrAddNode, err)
	}
	defer view.Close()
	resourceDeposit, metaDeposit, err := view.Deposits(ctx)
	if err != nil {
		return NodeInfo{}, fmt.Errorf("%w: %w", ErrAddNode, err)
	}
	sender := func(key string) (*chainclient.Sender, error) {
		return chainclient.NewSender(chainclient.SenderConfig{KeyringDir: s.cfg.Home, Backend: chainclient.BackendTest, Key: key, ChainID: s.settings.ChainID, RPC: fmt.Sprintf("tcp://127.0.0.1:%d", rpcPort)})
	}
	var info NodeInfo
	if role == home.RoleMeta {
		info, err = s.addMeta(ctx, view, sender, metaDeposit, progress)
	} else {
		info, err = s.addResource(ctx, sender, resourceDeposit, progress)
	}
	if err != nil {
		return info, fmt.Errorf("%w: %w", ErrAddNode, err)
	}
	return info, nil
}

type senderFunc func(key string) (*chainclient.Sender, error)

func (s *supervisor) addMeta(ctx context.Context, view *chainclient.View, sender senderFunc, deposit sdk.Coin, progress func(string)) (NodeInfo, error) {
	name := metaName(s.settings.metaCount())
	h := nodeHome(s.cfg.Home, name)
	key, err := identity.LoadOrGenerate(filepath.Join(h, home.NodeKeyFile), rand.Reader)
	if err != nil {
		return NodeInfo{}, err
	}
	var model home.Node
	if err := home.ReadTOML(filepath.Join(nodeHome(s.cfg.Home, metaName(0)), home.NodeConfigFile), &model); err != nil || model.Meta == nil {
		return NodeInfo{}, fmt.Errorf("read the config of %s: %v", metaName(0), err)
	}
	peers, err := s.metaPeers()
	if err != nil {
		return NodeInfo{}, err
	}
	ports, release, err := reservePorts(3)
	if err != nil {
		return NodeInfo{}, err
	}
	m := *model.Meta
	m.Listen, m.RaftListen, m.Join = ports[0], ports[1], true
	if m.MetricsListen != "" {
		m.MetricsListen = ports[2] // its own, not the model's
	}
	m.Peers = append(peers, home.MetaPeer{ID: key.ID(), Addr: ports[0], RaftAddr: ports[1]})
	release()
	if err := home.WriteTOML(filepath.Join(h, home.NodeConfigFile), home.Node{Role: home.RoleMeta, Meta: &m}); err != nil {
		return NodeInfo{}, err
	}

	// The cluster lets a meta node join only once the chain knows it
	// (pending or active): register first.
	operator, err := sender(metaOperatorAccount)
	if err != nil {
		return NodeInfo{}, err
	}
	active, pending, err := view.MetaNodes(ctx)
	if err != nil {
		return NodeInfo{}, err
	}
	if active[key.ID()] == nil && pending[key.ID()] == nil {
		if err := operator.RegisterMetaNode(ctx, key.Public(), m.Listen, deposit); err != nil {
			return NodeInfo{}, fmt.Errorf("register %s on chain: %w", name, err)
		}
	}
	progress(fmt.Sprintf("registered %s (%s) in x/register with a deposit of %s: pending", name, key.ID(), deposit))
	if err := s.persist(func(st *Settings) { st.Metas = st.metaCount() + 1 }); err != nil {
		return NodeInfo{}, err
	}
	n := node{Name: name, Role: home.RoleMeta, ID: key.ID(), Addr: m.Listen, Home: h, Metrics: m.MetricsListen}
	if err := s.start(n); err != nil {
		return NodeInfo{}, err
	}
	progress(fmt.Sprintf("started %s on %s: it joins the cluster as an observer", name, m.Listen))
	if err := s.waitMember(ctx, key.ID(), false); err != nil {
		return s.info(key.ID()), err
	}

	// DESIGN §5.2: more than 2/3 of the active meta nodes admit it, each
	// by its operator's vote; every devnet meta node has one operator.
	voters := make([]string, 0, len(active))
	for id := range active {
		voters = append(voters, id)
	}
	slices.Sort(voters)
	for _, v := range voters {
		if a, _, err := view.MetaNodes(ctx); err == nil && a[key.ID()] != nil {
			break
		}
		if err := operator.ApproveMetaNode(ctx, v, key.ID()); err != nil {
			return s.info(key.ID()), fmt.Errorf("approval of %s by %s: %w", name, v, err)
		}
		progress(fmt.Sprintf("meta node %s approved %s", v, name))
	}
	if err := s.shareMeta(home.MetaNode{ID: key.ID(), Addr: m.Listen}); err != nil {
		return s.info(key.ID()), err
	}
	if err := s.waitMember(ctx, key.ID(), true); err != nil {
		return s.info(key.ID()), err
	}
	progress(fmt.Sprintf("%s is active on chain and a voter of the cluster", name))
	return s.info(key.ID()), nil
}

func (s *supervisor) addResource(ctx context.Context, sender senderFunc, deposit sdk.Coin, progress func(string)) (NodeInfo, error) {
	i := s.settings.Resources
	name := resourceName(i)
	h := nodeHome(s.cfg.Home, name)
	key, err := identity.LoadOrGenerate(filepath.Join(h, home.NodeKeyFile), rand.Reader)
	if err != nil {
		return NodeInfo{}, err
	}
	var model home.Node
	if err := home.ReadTOML(filepath.Join(nodeHome(s.cfg.Home, resourceName(0)), home.NodeConfigFile), &model); err != nil || model.Resource == nil {
		return NodeInfo{}, fmt.Errorf("read the config of %s: %v", resourceName(0), err)
	}
	cc, err := home.LoadClient(s.cfg.Home)
	if err != nil {
		return NodeInfo{}, err
	}
	ports, release, err := reservePorts(2)
	if err != nil {
		return NodeInfo{}, err
	}
	r := *model.Resource
	r.Listen, r.Region = ports[0], s.settings.Regions[i%len(s.settings.Regions)]
	if r.MetricsListen != "" {
		r.MetricsListen = ports[1] // its own, not the model's
	}
	r.MetaAddr, r.MetaID, r.Metas = cc.MetaAddr, cc.MetaID, cc.Metas
	// No compute: the model's port and round key are the model's own, and
	// an added node has no offer in x/trustedfn (not yet: add-node would
	// offer compute with an agent account of its own).
	r.ComputeListen, r.ComputeKey, r.Byzantine = "", "", false
	release()
	if err := home.WriteTOML(filepath.Join(h, home.NodeConfigFile), home.Node{Role: home.RoleResource, Resource: &r}); err != nil {
		return NodeInfo{}, err
	}
	operator, err := sender(operatorAccount)
	if err != nil {
		return NodeInfo{}, err
	}
	if err := operator.RegisterResourceNode(ctx, key.Public(), r.Listen, r.Capacity, r.Region, deposit); err != nil {
		return NodeInfo{}, fmt.Errorf("register %s on chain: %w", name, err)
	}
	progress(fmt.Sprintf("registered %s (%s) in x/register with a deposit of %s: active", name, key.ID(), deposit))
	if err := s.persist(func(st *Settings) { st.Resources++ }); err != nil {
		return NodeInfo{}, err
	}
	n := node{Name: name, Role: home.RoleResource, ID: key.ID(), Addr: r.Listen, Home: h, Region: r.Region, Metrics: r.MetricsListen}
	if err := s.start(n); err != nil {
		return NodeInfo{}, err
	}
	progress(fmt.Sprintf("started %s on %s in %s", name, r.Listen, r.Region))
	c, err := client.New(s.clientConfig())
	if err != nil {
		return s.info(key.ID()), err
	}
	defer c.Close()
	if err := s.waitReady(ctx, c, []node{n}); err != nil {
		return s.info(key.ID()), err
	}
	progress(fmt.Sprintf("%s is alive: the meta leader places new slices on it", name))
	return s.info(key.ID()), nil
}

// metaPeers lists the devnet's meta nodes as their peers know them.
func (s *supervisor) metaPeers() ([]home.MetaPeer, error) {
	var out []home.MetaPeer
	for i := range s.settings.metaCount() {
		h := nodeHome(s.cfg.Home, metaName(i))
		var cfg home.Node
		if err := home.ReadTOML(filepath.Join(h, home.NodeConfigFile), &cfg); err != nil || cfg.Meta == nil {
			return nil, fmt.Errorf("read the config of %s: %v", metaName(i), err)
		}
		key, err := identity.Load(filepath.Join(h, home.NodeKeyFile))
		if err != nil {
			return nil, err
		}
		out = append(out, home.MetaPeer{ID: key.ID(), Addr: cfg.Meta.Listen, RaftAddr: cfg.Meta.RaftListen})
	}
	return out, nil
}

// shareMeta lists a new meta node in client.toml and in every resource
// node's config, so clients and nodes started from now on call it too.
func (s *supervisor) shareMeta(m home.MetaNode) error {
	path := filepath.Join(s.cfg.Home, home.ClientConfigFile)
	var cc home.Client
	if err := home.ReadTOML(path, &cc); err != nil {
		return err
	}
	cc.Metas = append(cc.Metas, m)
	if err := home.WriteTOML(path, cc); err != nil {
		return err
	}
	for i := range s.settings.Resources {
		p := filepath.Join(nodeHome(s.cfg.Home, resourceName(i)), home.NodeConfigFile)
		var n home.Node
		if err := home.ReadTOML(p, &n); err != nil {
			return err
		}
		if n.Resource != nil {
			n.Resource.Metas = append(n.Resource.Metas, m)
		}
		if err := home.WriteTOML(p, n); err != nil {
			return err
		}
	}
	return nil
}

// persist changes the settings of the running devnet and writes them to
// devnet.toml, so the next start runs the node too.
func (s *supervisor) persist(change func(*Settings)) error {
	st := s.settings
	change(&st)
	if err := st.Validate(); err != nil {
		return err
	}
	if err := home.WriteTOML(filepath.Join(s.cfg.Home, SettingsFile), st); err != nil {
		return err
	}
	s.settings = st
	return nil
}

// waitMember waits until the meta node id is a member of the cluster, and,
// with voter, a voter.
func (s *supervisor) waitMember(ctx context.Context, id string, voter bool) error {
	c, err := client.New(s.clientConfig())
	if err != nil {
		return err
	}
	defer c.Close()
	var last error
	for {
		if p := s.exitedNode(id); p != nil {
			return fmt.Errorf("node %s exited (%v); see %s", p.info.Name, p.err, p.info.Log)
		}
		st, err := c.Status(ctx)
		last = err
		if err == nil {
			last = fmt.Errorf("meta node %s is not a member of the cluster yet", id)
			for _, m := range st.GetMetaNodes() {
				if m.GetNodeId() != id {
					continue
				}
				if !voter || m.GetVoter() {
					return nil
				}
				last = fmt.Errorf("meta node %s is %s, not yet a voter", id, m.GetState())
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%v (logs in %s)", last, filepath.Join(s.cfg.Home, "logs"))
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// exitedNode returns the process of node id if it has exited.
func (s *supervisor) exitedNode(id string) *proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		if p.info.ID != id {
			continue
		}
		select {
		case <-p.done:
			return p
		default:
		}
	}
	return nil
}

// info returns what devnet.json says of node id.
func (s *supervisor) info(id string) NodeInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		if p.info.ID == id {
			return p.info
		}
	}
	return NodeInfo{ID: id}
}
