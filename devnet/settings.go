package devnet

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/app"
	"github.com/stratos-net/stratos/chain"
	gatewaykeys "github.com/stratos-net/stratos/gateway/keys"
	"github.com/stratos-net/stratos/home"
	"github.com/stratos-net/stratos/identity"
	"github.com/stratos-net/stratos/slice"
)

// SettingsFile holds a devnet's settings inside its home.
const SettingsFile = "devnet.toml"

// Settings describe a devnet; they are fixed when its home is created.
type Settings struct {
	// Metas is the number of meta nodes, one Raft cluster (DESIGN §5.1);
	// 0, in homes made before the cluster, means one.
	Metas       int      `toml:"metas,omitempty"`
	Resources   int      `toml:"resources"`
	Replicas    int      `toml:"replicas"`
	MinReplicas int      `toml:"min_replicas"`
	SliceSize   int      `toml:"slice_size"`
	Regions     []string `toml:"regions"`
	Owner       string   `toml:"owner"`
	// The chain (DESIGN §4): validators, each its own process. Zero means a
	// storage network without a chain (homes made before the chain existed).
	Validators    int    `toml:"validators"`
	ChainID       string `toml:"chain_id,omitempty"`
	ChainBasePort int    `toml:"chain_base_port,omitempty"` // see chain.TestnetConfig.Ports
	// Gateway is where the S3 gateway listens (DESIGN §9); empty in homes
	// made before it, which then run none.
	Gateway string `toml:"gateway,omitempty"`
	// Byzantine is how many resource nodes answer trusted-function calls
	// wrongly on purpose (the last ones), so their loss shows (issue 10).
	Byzantine int `toml:"byzantine,omitempty"`
}

// DefaultSettings are what `stratos devnet` starts with. Slices of 16 MiB:
// on the 2-core development machine upload and download throughput is flat
// from 4 to 32 MiB (BenchmarkUpload and BenchmarkDownload in e2e/, within
// 5% of each other), so the size DESIGN §6.1 recommends wins on what it
// saves: four times fewer index entries, placements and receipts per byte
// than 4 MiB.
func DefaultSettings() Settings {
	return Settings{
		Metas: 3, Resources: 6, Replicas: 3, MinReplicas: 2, SliceSize: slice.DefaultSize,
		Regions: []string{"region-a", "region-b", "region-c"}, Owner: "user",
		Validators: 1, ChainID: "stratos-devnet-1",
	}
}

// ErrSettings is wrapped by every settings error.
var ErrSettings = errors.New("invalid devnet settings")

// Validate reports what is wrong with s.
func (s Settings) Validate() error {
	var errs []error
	if s.Metas < 0 || s.Metas > 7 {
		errs = append(errs, fmt.Errorf("--meta %d: want 1..7", s.Metas))
	}
	if s.Resources < 1 || s.Resources > 64 {
		errs = append(errs, fmt.Errorf("--resource %d: want 1..64", s.Resources))
	}
	if s.MinReplicas < 1 || s.Replicas < s.MinReplicas {
		errs = append(errs, fmt.Errorf("--replicas %d with minimum %d: want 1 <= minimum <= replicas", s.Replicas, s.MinReplicas))
	}
	if s.Replicas > s.Resources {
		errs = append(errs, fmt.Errorf("--replicas %d needs at least that many resource nodes, have --resource %d", s.Replicas, s.Resources))
	}
	if err := slice.CheckSize(s.SliceSize); err != nil {
		errs = append(errs, fmt.Errorf("--slice-size: %w", err))
	}
	if s.Validators < 0 || s.Validators > 16 {
		errs = append(errs, fmt.Errorf("--validators %d: want 0..16", s.Validators))
	}
	if s.Byzantine < 0 || s.Byzantine >= s.Resources {
		errs = append(errs, fmt.Errorf("--byzantine %d: want fewer than the %d resource nodes", s.Byzantine, s.Resources))
	}
	if len(s.Regions) == 0 || s.Owner == "" {
		errs = append(errs, errors.New("regions and owner must be set"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrSettings, err)
	}
	return nil
}

// LoadSettings reads the settings of an existing devnet home; ok is false if
// dir holds no devnet yet.
func LoadSettings(dir string) (s Settings, ok bool, err error) {
	err = home.ReadTOML(filepath.Join(dir, SettingsFile), &s)
	if errors.Is(err, os.ErrNotExist) {
		return s, false, nil
	}
	return s, err == nil, err
}

// node is one node of the devnet as laid out on disk.
type node struct {
	Name, Role, ID, Addr, Home, Region string
	Metrics                            string   // where it serves Prometheus /metrics, if it does
	Args                               []string // the command line after the binary; default: node start
}

func metaName(i int) string { return fmt.Sprintf("meta-%d", i) }

// metaCount is how many meta nodes the devnet runs.
func (s Settings) metaCount() int   { return max(1, s.Metas) }
func resourceName(i int) string     { return fmt.Sprintf("resource-%d", i) }
func nodeHome(dir, n string) string { return filepath.Join(dir, "nodes", n) }

// create lays out a new devnet home: keys, node configs on free loopback
// ports, and the client config.
func create(dir string, s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	// The storage nodes' ports stay held until the chain has picked its
	// range, which would otherwise be free to land on them.
	metas := s.metaCount()
	// Per meta node: service and Raft; per resource node: service; the
	// gateway; then one metrics port per node; then per resource node its
	// compute JSON-RPC.
	ports, release, err := reservePorts(2*metas + s.Resources + 1 + metas + s.Resources + s.Resources)
	if err != nil {
		return err
	}
	defer release()
	var reg registry
	var peers []home.MetaPeer
	var members []home.MetaNode
	for i := range metas {
		k, err := identity.LoadOrGenerate(filepath.Join(nodeHome(dir, metaName(i)), home.NodeKeyFile), rand.Reader)
		if err != nil {
			return err
		}
		reg.metas = append(reg.metas, registryEntry{key: k, addr: ports[2*i]})
		peers = append(peers, home.MetaPeer{ID: k.ID(), Addr: ports[2*i], RaftAddr: ports[2*i+1]})
		members = append(members, home.MetaNode{ID: k.ID(), Addr: ports[2*i]})
	}
	resourcePort := func(i int) string { return ports[2*metas+i] }
	s.Gateway = ports[2*metas+s.Resources]
	metricsPort := func(i int) string { return ports[2*metas+s.Resources+1+i] } // metas first, then resources
	computePort := func(i int) string { return ports[2*metas+s.Resources+1+metas+s.Resources+i] }
	capacity, err := shareOfDisk(dir, s.Resources)
	if err != nil {
		return err
	}
	for i := 0; i < s.Resources; i++ {
		k, err := identity.LoadOrGenerate(filepath.Join(nodeHome(dir, resourceName(i)), home.NodeKeyFile), rand.Reader)
		if err != nil {
			return err
		}
		reg.resources = append(reg.resources, registryEntry{key: k, addr: resourcePort(i), region: s.Regions[i%len(s.Regions)],
			capacity: capacity, compute: "http://" + computePort(i)})
	}
	if err := createChain(dir, &s, &reg); err != nil {
		return err
	}
	owner, chainGRPC, chainRPC, key := s.Owner, "", "", ""
	var chainREST, chainMetrics string
	var chainMeta func(*home.Meta)
	if s.Validators == 0 {
		// No chain, yet the meta nodes check users' signatures all the
		// same (an address is the hash of its key): the owner is an
		// account in the home's keyring, as with a chain.
		if owner, err = newAccount(dir, s.Owner); err != nil {
			return err
		}
		key = s.Owner
	} else {
		// With a chain the namespace owner is the user's account, whose
		// prepay pays for its traffic (DESIGN §5.1, §7).
		owner, key = reg.user.String(), "user"
		_, rpcPort, grpcPort := chain.TestnetConfig{BasePort: s.ChainBasePort}.Ports(0)
		chainGRPC, chainRPC = fmt.Sprintf("127.0.0.1:%d", grpcPort), fmt.Sprintf("tcp://127.0.0.1:%d", rpcPort)
		apiPort, metricsPort := chain.TestnetConfig{BasePort: s.ChainBasePort}.ServicePorts(0)
		chainREST, chainMetrics = fmt.Sprintf("http://127.0.0.1:%d", apiPort), fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort)
		// The leader anchors the index and submits the reports as the
		// operator of the meta nodes' registrations, with the devnet's
		// short ledger period.
		chainMeta = func(m *home.Meta) {
			m.ChainGRPC, m.AnchorKey, m.KeyringDir = chainGRPC, metaOperatorAccount, dir
			m.KeyringBackend, m.TestNetwork = "test", true // the devnet's keys are test keys
			m.ChainID, m.ChainRPC = s.ChainID, fmt.Sprintf("tcp://127.0.0.1:%d", rpcPort)
			m.LedgerPeriod = home.Duration(devnetLedgerPeriod)
			m.ChallengeEvery = home.Duration(devnetChallengeEvery)
		}
	}
	var admit []string // with no chain, the meta nodes admit the devnet's resource nodes
	for _, r := range reg.resources {
		admit = append(admit, r.key.ID())
	}
	for i, p := range peers {
		m := &home.Meta{Listen: p.Addr, RaftListen: p.RaftAddr, MetricsListen: metricsPort(i), Peers: peers, MasterTerm: home.Duration(devnetMasterTerm),
			SliceSize: s.SliceSize, Replicas: s.Replicas, MinReplicas: s.MinReplicas}
		if chainMeta != nil {
			chainMeta(m)
		} else {
			m.Admit = admit
		}
		if err := home.WriteTOML(filepath.Join(nodeHome(dir, metaName(i)), home.NodeConfigFile), home.Node{Role: home.RoleMeta, Meta: m}); err != nil {
			return err
		}
	}
	first, others := members[0], members[1:]
	for i := 0; i < s.Resources; i++ {
		h := nodeHome(dir, resourceName(i))
		if _, err := identity.LoadOrGenerate(filepath.Join(h, home.NodeKeyFile), rand.Reader); err != nil {
			return err
		}
		n := home.Node{
			Role: home.RoleResource,
			Resource: &home.Resource{Listen: resourcePort(i), MetricsListen: metricsPort(metas + i), MetaAddr: first.Addr, MetaID: first.ID, Metas: others, Region: s.Regions[i%len(s.Regions)], Capacity: capacity, ChainGRPC: chainGRPC,
				ComputeListen: computeListen(chainGRPC, computePort(i)), Byzantine: i >= s.Resources-s.Byzantine},
		}
		if chainGRPC != "" {
			// Its rounds are signed by its own account, its offer's agent:
			// six nodes signing as the one operator would race for its
			// account sequence.
			rc := n.Resource
			rc.ComputeKey, rc.KeyringDir, rc.KeyringBackend, rc.TestNetwork = computeAccount(i), dir, "test", true
			rc.ChainID, rc.ChainRPC = s.ChainID, chainRPC
		}
		if err := home.WriteTOML(filepath.Join(h, home.NodeConfigFile), n); err != nil {
			return err
		}
	}
	if err := home.WriteTOML(filepath.Join(dir, home.ClientConfigFile), home.Client{
		MetaAddr: first.Addr, MetaID: first.ID, Metas: others, Owner: owner, Region: s.Regions[0], Key: key,
		Gateway: "http://" + s.Gateway, ChainGRPC: chainGRPC, ChainREST: chainREST, ChainMetrics: chainMetrics,
	}); err != nil {
		return err
	}
	// The user's S3 key, so the gateway works from the first start.
	ks, err := gatewaykeys.Open(gatewaykeys.Path(dir))
	if err != nil {
		return err
	}
	if _, err := ks.Create(key, owner, time.Now()); err != nil {
		return err
	}
	// Written last: its presence means the home is complete.
	return home.WriteTOML(filepath.Join(dir, SettingsFile), s)
}

// computeListen is where a resource node serves compute: only with a chain,
// which assigns the apps.
func computeListen(chainGRPC, addr string) string {
	if chainGRPC == "" {
		return ""
	}
	return addr
}

// createChain writes the validators' homes and genesis under dir/chain and
// puts every test account in the devnet home's keyring, so `stratos keys`,
// `tx` and `query` work with --home dir.
func createChain(dir string, s *Settings, reg *registry) error {
	if s.Validators == 0 {
		return nil
	}
	base, err := chain.FreeBasePort(s.Validators)
	if err != nil {
		return err
	}
	s.ChainBasePort = base
	accounts := []string{operatorAccount, metaOperatorAccount}
	for i := range s.Resources {
		accounts = append(accounts, computeAccount(i))
	}
	_, err = chain.InitTestnet(chain.TestnetConfig{
		Dir: filepath.Join(dir, "chain"), ChainID: s.ChainID, NumValidators: s.Validators,
		BasePort: base, ClientHome: dir, Accounts: accounts, Genesis: reg.genesis, Metrics: true,
		TimeoutCommit: chain.DevnetBlockTime,
	})
	if err != nil {
		return fmt.Errorf("chain genesis: %w", err)
	}
	return nil
}

// devnetMasterTerm is the devnet's PoA master term: short, so a session
// sees the vote hand leadership on (DESIGN §5.2), and long beside the
// repair of a dead node, whose liveness a new leader learns again.
const devnetMasterTerm = 2 * time.Minute

// devnetLedgerPeriod is the devnet's traffic and anchor period: the
// whitepaper's 10 minutes would leave a short session with nothing on chain.
const devnetLedgerPeriod = 10 * time.Second

// devnetChallengeEvery is how often the devnet's meta leader challenges a
// random slice's holders (proofs of storage, issue 10).
const devnetChallengeEvery = 5 * time.Second

func validatorName(i int) string { return fmt.Sprintf("validator-%d", i) }

// validators lays out the validator nodes of a devnet.
func validators(dir string, s Settings) ([]node, error) {
	ports := chain.TestnetConfig{BasePort: s.ChainBasePort}
	var out []node
	for i := range s.Validators {
		h := filepath.Join(dir, "chain", fmt.Sprintf("node%d", i))
		id, err := chain.NodeID(h)
		if err != nil {
			return nil, fmt.Errorf("devnet node %s: %w", validatorName(i), err)
		}
		_, rpc, _ := ports.Ports(i)
		out = append(out, node{Name: validatorName(i), Role: roleValidator, ID: id, Home: h, Addr: fmt.Sprintf("127.0.0.1:%d", rpc)})
	}
	return out, nil
}

const roleValidator = "validator"

// layout reads the nodes of an existing devnet home: validators first, then
// the meta node, then resource nodes, the order they start in.
func layout(dir string, s Settings) ([]node, error) {
	out, err := validators(dir, s)
	if err != nil {
		return nil, err
	}
	var names []string
	for i := range s.metaCount() {
		names = append(names, metaName(i))
	}
	for i := 0; i < s.Resources; i++ {
		names = append(names, resourceName(i))
	}
	for _, n := range names {
		h := nodeHome(dir, n)
		var cfg home.Node
		if err := home.ReadTOML(filepath.Join(h, home.NodeConfigFile), &cfg); err != nil {
			return nil, fmt.Errorf("devnet node %s: %w", n, err)
		}
		key, err := identity.Load(filepath.Join(h, home.NodeKeyFile))
		if err != nil {
			return nil, fmt.Errorf("devnet node %s: %w", n, err)
		}
		nd := node{Name: n, Role: cfg.Role, ID: key.ID(), Home: h}
		switch {
		case cfg.Meta != nil:
			nd.Addr, nd.Metrics = cfg.Meta.Listen, cfg.Meta.MetricsListen
		case cfg.Resource != nil:
			nd.Addr, nd.Region, nd.Metrics = cfg.Resource.Listen, cfg.Resource.Region, cfg.Resource.MetricsListen
		}
		out = append(out, nd)
	}
	if s.Gateway != "" {
		out = append(out, node{Name: "gateway", Role: roleGateway, Addr: s.Gateway, Metrics: s.Gateway,
			Args: []string{"gateway", "--home", dir, "--listen", s.Gateway, "--stream-account", streamAccount(dir)}})
	}
	return out, nil
}

const roleGateway = "gateway"

// streamAccount is the keyring account whose files the devnet's gateway
// streams on loopback: the one the home's client config signs with.
func streamAccount(dir string) string {
	cc, err := home.LoadClient(dir)
	if err != nil || cc.Key == "" {
		return "user"
	}
	return cc.Key
}

// shareOfDisk splits the free space of the disk under dir among the
// resource nodes: on a devnet they share one disk, and each claiming all of
// it would make the network look n times larger than it is.
func shareOfDisk(dir string, n int) (uint64, error) {
	free, err := diskFree(dir)
	if err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return free / uint64(n), nil
}

// reservePorts asks the kernel for n free loopback ports and holds them
// until release is called.
func reservePorts(n int) (ports []string, release func(), err error) {
	var lns []net.Listener
	release = func() {
		for _, l := range lns {
			l.Close()
		}
	}
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			release()
			return nil, nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().String())
	}
	return ports, release, nil
}

// newAccount makes the account key name in the test keyring of dir, the
// one `stratos keys` manages, and returns its address; config/client.toml
// names that backend, as it does on a devnet with a chain.
func newAccount(dir, name string) (string, error) {
	cc := struct {
		Backend string `toml:"keyring-backend"`
	}{keyring.BackendTest}
	if err := home.WriteTOML(filepath.Join(dir, "config", "client.toml"), cc); err != nil {
		return "", err
	}
	kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, dir, nil, app.NewEncodingConfig().Codec)
	if err != nil {
		return "", fmt.Errorf("keyring in %s: %w", dir, err)
	}
	rec, _, err := kr.NewMnemonic(name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	if err != nil {
		return "", fmt.Errorf("account key %q: %w", name, err)
	}
	pk, err := rec.GetPubKey()
	if err != nil {
		return "", err
	}
	return account.Address(pk.Bytes())
}
