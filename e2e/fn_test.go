package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratos-net/stratos/devnet"
	"github.com/stratos-net/stratos/home"
	"github.com/stratos-net/stratos/internal/wasmtest"
	"github.com/stratos-net/stratos/slice"
)

// buildWASM builds one of examples/fn for WASI.
func buildWASM(t *testing.T, name string) string { return wasmtest.Build(t, "../examples/fn/"+name) }

// Issue 10 end to end, with real processes: a devnet with one byzantine
// resource node; `fn deploy` stores the module and the chain draws five
// nodes; `fn call` and POST /fn/ on the gateway return the answer the four
// honest nodes agreed on and name the liar; `fn round --spot` runs a
// commit-reveal round on chain that pays the four and not the fifth, whose
// record shows it; then the gateway runs a round by itself on a call it
// served (Stratosphere §3.2-§3.4, §4.2, §4.5).
func TestTrustedFunctions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a devnet")
	}
	bin := buildBinary(t)
	wasm := buildWASM(t, "hello")
	dir := t.TempDir()
	d := startDevnet(t, bin, dir, "--meta", "1", "--resource", "5", "--byzantine", "1")
	defer d.stop(t)
	m, err := devnet.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var liar string
	for _, n := range m.Nodes {
		if n.Name == "resource-4" {
			liar = n.ID
		}
	}

	var app struct {
		ID    string   `json:"id"`
		Nodes []string `json:"nodes"`
	}
	out := stratos(t, bin, "fn", "deploy", wasm, "--name", "hello", "--nodes", "5", "--rounds-every", "1",
		"--commit-timeout", "4", "--reveal-timeout", "4", "--escrow", "100000000ustb,50000000ustos", "--home", dir, "--json")
	if err := json.Unmarshal(out, &app); err != nil || len(app.Nodes) != 5 || !strings.HasPrefix(app.ID, "app1") {
		t.Fatalf("deploy: %v\n%s", err, out)
	}

	var call struct {
		Output  []byte   `json:"output"`
		Agreed  []string `json:"agreed"`
		Quorum  int      `json:"quorum"`
		Answers []struct {
			Node   string `json:"node"`
			Agreed bool   `json:"agreed"`
		} `json:"answers"`
	}
	out = stratos(t, bin, "fn", "call", app.ID, "greet", "--input", `{"name":"Ada"}`, "--home", dir, "--json")
	if err := json.Unmarshal(out, &call); err != nil {
		t.Fatalf("call: %v\n%s", err, out)
	}
	if string(call.Output) != "{\"greeting\":\"Hello, Ada!\"}\n" || len(call.Agreed) != 4 || call.Quorum != 4 {
		t.Fatalf("call answered %q, agreed by %v (quorum %d)", call.Output, call.Agreed, call.Quorum)
	}
	for _, a := range call.Answers {
		if (a.Node == liar) == a.Agreed {
			t.Errorf("node %s agreed=%v; the byzantine node is %s", a.Node, a.Agreed, liar)
		}
	}

	var rr struct {
		Round struct {
			Result  bool `json:"result"`
			Members []struct {
				NodeID string `json:"node_id"`
				Status string `json:"status"`
				Paid   []struct {
					Denom  string `json:"denom"`
					Amount string `json:"amount"`
				} `json:"paid"`
			} `json:"members"`
		} `json:"round"`
	}
	out = stratos(t, bin, "fn", "round", app.ID, "greet", "--input", `{"name":"Cy"}`, "--spot", "--home", dir, "--json")
	if err := json.Unmarshal(out, &rr); err != nil || !rr.Round.Result {
		t.Fatalf("round: %v\n%s", err, out)
	}
	for _, mb := range rr.Round.Members {
		paid := len(mb.Paid) == 2
		if mb.NodeID == liar {
			if mb.Status != "minority" || paid {
				t.Errorf("byzantine node: %s, paid %v", mb.Status, mb.Paid)
			}
		} else if mb.Status != "majority" || !paid {
			t.Errorf("honest node %s: %s, paid %v", mb.NodeID, mb.Status, mb.Paid)
		}
	}
	var rep struct {
		Record struct {
			Minority string `json:"minority"`
			Majority string `json:"majority"`
		} `json:"record"`
	}
	out = stratos(t, bin, "query", "trustedfn", "reputation", liar, "--home", dir, "-o", "json")
	// (Its majority rounds, if any, are storage challenges: it stores honestly.)
	if err := json.Unmarshal(out, &rep); err != nil || rep.Record.Minority != "1" {
		t.Fatalf("the byzantine node's reputation: %v\n%s", err, out)
	}

	// The gateway samples the calls it serves and, at the app's frequency,
	// runs a round on one of them by itself (trust.Scheduler).
	var logs []struct {
		Node    string `json:"node"`
		Entries []struct {
			Function string `json:"function"`
		} `json:"entries"`
	}
	out = stratos(t, bin, "fn", "logs", app.ID, "--home", dir, "--json")
	if err := json.Unmarshal(out, &logs); err != nil || len(logs) != 5 {
		t.Fatalf("logs: %v\n%s", err, out)
	}
	for _, l := range logs {
		if len(l.Entries) == 0 || l.Entries[0].Function != "greet" {
			t.Errorf("node %s logged %+v", l.Node, l.Entries)
		}
	}

	cc, err := home.LoadClient(dir)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(cc.Gateway+"/fn/"+app.ID+"/greet", "application/json",
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"greet","params":{"name":"Bo"}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var rpc struct {
		Result struct {
			Output map[string]string `json:"output"`
			Agreed []string          `json:"agreed"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &rpc); err != nil || rpc.Result.Output["greeting"] != "Hello, Bo!" || len(rpc.Result.Agreed) != 4 {
		t.Fatalf("POST /fn/: %v %s", err, body)
	}

	waitFor(t, "a round the gateway ran by itself", func() bool {
		var rounds []struct {
			Result bool `json:"result"`
		}
		out := stratos(t, bin, "fn", "rounds", app.ID, "--home", dir, "--json")
		return json.Unmarshal(out, &rounds) == nil && len(rounds) >= 2 && rounds[0].Result
	})
}

// Issue 10, proofs of storage (Stratosphere §4.1.6) end to end: the meta
// leader challenges random slices' holders on chain; honest holders prove
// theirs; a holder whose copy is gone fails, loses the replica, and the
// slice is repaired (placement may pick the same node again: then it holds
// a fresh copy).
func TestStorageChallenges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a devnet")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	d := startDevnet(t, bin, dir, "--meta", "1", "--resource", "4")
	defer d.stop(t)
	checkChainEndpoints(t, bin, dir)
	src := filepath.Join(t.TempDir(), "one-slice")
	if err := os.WriteFile(src, randomBytes(11, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	stratos(t, bin, "put", "--home", dir, src, "/one-slice")
	var stat struct {
		Slices []struct {
			ID       string   `json:"id"`
			Replicas []string `json:"replicas"`
		} `json:"slices"`
	}
	readStat := func() {
		t.Helper()
		if err := json.Unmarshal(stratos(t, bin, "stat", "--home", dir, "--json", "/one-slice"), &stat); err != nil || len(stat.Slices) != 1 {
			t.Fatalf("stat: %v %+v", err, stat)
		}
	}
	readStat()
	victim := stat.Slices[0].Replicas[0]
	m, err := devnet.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var dataDir string
	for _, n := range m.Nodes {
		if n.ID == victim {
			dataDir = n.DataDir
		}
	}
	type record struct {
		Challenges string `json:"storage_challenges"`
		Failures   string `json:"storage_failures"`
	}
	reputation := func(node string) record {
		var rep struct {
			Record record `json:"record"`
		}
		out := stratos(t, bin, "query", "trustedfn", "reputation", node, "--home", dir, "-o", "json")
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("reputation: %v\n%s", err, out)
		}
		return rep.Record
	}
	waitFor(t, "a proved storage challenge", func() bool {
		r := reputation(stat.Slices[0].Replicas[1])
		return r.Challenges != "" && r.Challenges != "0" && r.Failures == ""
	})
	sid, err := slice.ParseID(stat.Slices[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	id := sid.Hex()
	path := filepath.Join(dataDir, "slices", id[:2], id)
	if err := os.Remove(path); err != nil {
		t.Fatalf("remove the victim's copy: %v", err)
	}
	// A challenge lands on the slice within a few 5 s ticks (the leader picks
	// a random live node, then one of its slices), then the round, then the
	// repair: under a minute on an idle machine, so three are allowed.
	waitLong(t, 3*time.Minute, "the victim's failed challenge, and the slice repaired elsewhere", func() bool {
		readStat()
		// Repaired: three replicas again, on another node or, if placement
		// chose the victim again, as a fresh copy on its disk.
		_, err := os.Stat(path)
		repaired := len(stat.Slices[0].Replicas) == 3 && (!slices.Contains(stat.Slices[0].Replicas, victim) || err == nil)
		return repaired && reputation(victim).Failures != ""
	})
}

// waitLong is waitFor with its own deadline.
func waitLong(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting until %s", d, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkChainEndpoints (issue 9): status lists the validator's REST (LCD)
// API and CometBFT's Prometheus metrics, and both answer.
func checkChainEndpoints(t *testing.T, bin, dir string) {
	t.Helper()
	var st struct {
		Endpoints struct {
			REST    string `json:"rest"`
			Metrics string `json:"metrics"`
		} `json:"chain_endpoints"`
	}
	if err := json.Unmarshal(stratos(t, bin, "status", "--home", dir, "--json"), &st); err != nil || st.Endpoints.REST == "" || st.Endpoints.Metrics == "" {
		t.Fatalf("status chain endpoints: %v %+v", err, st)
	}
	get := func(url string) string {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", url, resp.Status, b)
		}
		return string(b)
	}
	if body := get(st.Endpoints.REST + "/cosmos/base/tendermint/v1beta1/node_info"); !strings.Contains(body, "stratos-devnet") {
		t.Fatalf("REST node_info: %.300s", body)
	}
	if body := get(st.Endpoints.Metrics); !strings.Contains(body, "cometbft_consensus_height") {
		t.Fatalf("CometBFT metrics: %.300s", body)
	}
}
