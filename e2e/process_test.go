package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratos-net/stratos/devnet"
)

// buildBinary compiles cmd/stratos once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stratos")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/stratos")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type devnetProc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
}

// startDevnet runs `stratos devnet` and waits for "devnet ready".
func startDevnet(t *testing.T, bin, home string, args ...string) *devnetProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"devnet", "--home", home}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &devnetProc{cmd: cmd, out: &bytes.Buffer{}, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			d.out.WriteString(sc.Text() + "\n")
			if sc.Text() == "devnet ready" && !signalled {
				signalled = true
				close(ready)
			}
		}
		d.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case <-ready:
	case err := <-d.done:
		t.Fatalf("devnet exited before ready: %v\n%s\n%s", err, d.out, stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("devnet not ready in 2m\n%s\n%s", d.out, stderr.String())
	}
	return d
}

func (d *devnetProc) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("devnet exit after SIGTERM: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("devnet did not stop within a minute of SIGTERM")
	}
}

func stratos(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("stratos %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// The process test: devnet, put, ls, stat, get; kill -9 two of
// three holders of a slice and still download byte for byte; restart the
// devnet and find every file.
// checkShareLinks shares /videos/movie.mp4 (whose bytes are data) and the
// /videos directory through the devnet's gateway, opens, lists, revokes
// and outlives links.
func checkShareLinks(t *testing.T, bin, home string, data []byte) {
	t.Helper()
	var link struct {
		ID, URL, State string
		Dir, Password  bool
	}
	mustJSON := func(out []byte, v any) {
		t.Helper()
		if err := json.Unmarshal(out, v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	fetch := func(u string, edit ...func(*http.Request)) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		for _, e := range edit {
			e(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	mustJSON(stratos(t, bin, "share", "--home", home, "--json", "--expires", "1h", "/videos/movie.mp4"), &link)
	if code, body := fetch(link.URL); code != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET %s: %d, %d bytes", link.URL, code, len(body))
	}
	if code, body := fetch(link.URL, func(r *http.Request) { r.Header.Set("Range", "bytes=1000-1999") }); code != http.StatusPartialContent || !bytes.Equal(body, data[1000:2000]) {
		t.Fatalf("range of a share link: %d", code)
	}
	fileLink := link

	// A directory behind a password (read from standard input).
	cmd := exec.Command(bin, "share", "--home", home, "--json", "--password", "/videos/")
	cmd.Stdin = strings.NewReader("open sesame\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("share --password: %v", err)
	}
	mustJSON(out, &link)
	if !link.Dir || !link.Password {
		t.Fatalf("directory link: %+v", link)
	}
	if code, _ := fetch(link.URL); code != http.StatusUnauthorized {
		t.Fatalf("no password: %d", code)
	}
	code, body := fetch(link.URL, func(r *http.Request) { r.SetBasicAuth("", "open sesame") })
	if code != http.StatusOK || !strings.Contains(string(body), `"movie.mp4"`) {
		t.Fatalf("listing with the password: %d %s", code, body)
	}
	var links []struct{ ID, State string }
	mustJSON(stratos(t, bin, "share", "ls", "--home", home, "--json"), &links)
	if len(links) != 2 || links[0].State != "active" {
		t.Fatalf("share ls: %+v", links)
	}
	stratos(t, bin, "share", "revoke", "--home", home, fileLink.ID)
	if code, body := fetch(fileLink.URL); code != http.StatusForbidden || !strings.Contains(string(body), "revoked") {
		t.Fatalf("revoked link: %d %s", code, body)
	}
	mustJSON(stratos(t, bin, "share", "--home", home, "--json", "--expires", "1s", "/videos/movie.mp4"), &link)
	time.Sleep(1100 * time.Millisecond)
	if code, body := fetch(link.URL); code != http.StatusGone || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired link: %d %s", code, body)
	}
}

func TestDevnetProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a devnet")
	}
	bin := buildBinary(t)
	home := t.TempDir()
	d := startDevnet(t, bin, home, "--resource", "4", "--slice-size", "1MiB")
	stratos(t, bin, "status", "--home", home, "--wait", "1m")

	src := filepath.Join(t.TempDir(), "movie.mp4")
	data := randomBytes(42, 5<<20+123)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var put struct {
		Path   string `json:"path"`
		FileID string `json:"file_id"`
		Size   uint64 `json:"size"`
	}
	if err := json.Unmarshal(stratos(t, bin, "put", "--home", home, "--json", src, "/videos/movie.mp4"), &put); err != nil {
		t.Fatal(err)
	}
	if put.Size != uint64(len(data)) {
		t.Fatalf("put --json size %d", put.Size)
	}
	if ls := string(stratos(t, bin, "ls", "--home", home, "/videos")); !strings.Contains(ls, "movie.mp4") {
		t.Fatalf("ls /videos: %s", ls)
	}
	var stat struct {
		FileID string `json:"file_id"`
		Slices []struct {
			ID       string   `json:"id"`
			Replicas []string `json:"replicas"`
		} `json:"slices"`
	}
	if err := json.Unmarshal(stratos(t, bin, "stat", "--home", home, "--json", "/videos/movie.mp4"), &stat); err != nil {
		t.Fatal(err)
	}
	if len(stat.Slices) != 6 || len(stat.Slices[0].Replicas) != 3 {
		t.Fatalf("stat: %+v", stat)
	}

	// A slice is a file named by its digest under the holder's data_dir.
	m, err := devnet.ReadManifest(home)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]devnet.NodeInfo{}
	for _, n := range m.Nodes {
		byID[n.ID] = n
	}
	holder := byID[stat.Slices[0].Replicas[0]]
	digest := strings.TrimPrefix(stat.Slices[0].ID, "sha256-")
	if matches, _ := filepath.Glob(filepath.Join(holder.DataDir, "slices", "*", "*"+digest+"*")); len(matches) != 1 {
		t.Fatalf("slice %s not found as a file under %s", digest, holder.DataDir)
	}

	// Issue 9: put --encrypt stores only ciphertext on the resource nodes'
	// disks, and get decrypts it with the account key.
	secret := bytes.Repeat([]byte("TOP SECRET: the tax return of the user. "), 60000) // 2.4 MB, 3 slices
	secretSrc := filepath.Join(t.TempDir(), "tax.pdf")
	if err := os.WriteFile(secretSrc, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	stratos(t, bin, "put", "--home", home, "--encrypt", secretSrc, "/docs/tax.pdf")
	var sealed struct {
		Size      uint64 `json:"size"`
		Encrypted bool   `json:"encrypted"`
		Slices    []struct {
			ID       string   `json:"id"`
			Replicas []string `json:"replicas"`
		} `json:"slices"`
	}
	if err := json.Unmarshal(stratos(t, bin, "stat", "--home", home, "--json", "/docs/tax.pdf"), &sealed); err != nil {
		t.Fatal(err)
	}
	if !sealed.Encrypted || sealed.Size != uint64(len(secret)) {
		t.Fatalf("stat of an encrypted file: %+v", sealed)
	}
	for _, sl := range sealed.Slices {
		for _, id := range sl.Replicas {
			files, _ := filepath.Glob(filepath.Join(byID[id].DataDir, "slices", "*", "*"+strings.TrimPrefix(sl.ID, "sha256-")+"*"))
			for _, f := range files {
				if b, _ := os.ReadFile(f); bytes.Contains(b, []byte("TOP SECRET")) {
					t.Fatalf("node %s holds plaintext in %s", id, f)
				}
			}
			if len(files) == 0 {
				t.Fatalf("slice %s not on %s's disk", sl.ID, id)
			}
		}
	}
	if got := stratos(t, bin, "get", "--home", home, "/docs/tax.pdf", "-"); !bytes.Equal(got, secret) {
		t.Fatal("get of an encrypted file did not give the plaintext back")
	}

	// Issue 9: share links, made with the CLI and opened with plain HTTP.
	checkShareLinks(t, bin, home, data)

	// A holder that hangs (SIGSTOP: its connections stay open, it answers
	// nothing) is skipped for the next one after the client's stall timeout.
	hung := byID[stat.Slices[0].Replicas[2]].PID
	if err := syscall.Kill(hung, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if got := stratos(t, bin, "get", "--home", home, "/videos/movie.mp4", "-"); !bytes.Equal(got, data) {
		t.Fatal("download with a hung holder differs")
	}
	syscall.Kill(hung, syscall.SIGCONT)

	// kill -9 two of the three holders of slice 0.
	for _, id := range stat.Slices[0].Replicas[:2] {
		if err := syscall.Kill(byID[id].PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "copy.mp4")
	stratos(t, bin, "get", "--home", home, "/videos/movie.mp4", dst)
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatal("download after kill -9 of two holders differs")
	}
	// By file ID, to standard output.
	if got := stratos(t, bin, "get", "--home", home, stat.FileID, "-"); !bytes.Equal(got, data) {
		t.Fatal("get by file ID to stdout differs")
	}
	stratos(t, bin, "put", "--home", home, src, "/videos/second.mp4")
	stratos(t, bin, "rm", "--home", home, "/videos/second.mp4")

	// The chain, through the same binary and home (issue 3's tour).
	user := strings.TrimSpace(string(stratos(t, bin, "keys", "show", "user", "-a", "--home", home)))
	node0 := strings.TrimSpace(string(stratos(t, bin, "keys", "show", "node0", "-a", "--home", home)))
	if !strings.HasPrefix(user, "st1") {
		t.Fatalf("user address %q lacks the st prefix", user)
	}
	before := balanceOf(t, bin, home, node0, "ustos")
	stratos(t, bin, "tx", "bank", "send", "user", node0, "5000000ustos", "--home", home, "--yes", "--fees", "3000ustos")
	waitFor(t, "the transfer lands", func() bool { return balanceOf(t, bin, home, node0, "ustos") == before+5_000_000 })
	if balanceOf(t, bin, home, user, "ustb") == 0 {
		t.Fatal("no ustb at genesis")
	}
	heightBefore := chainHeight(t, bin, home)

	// Every devnet resource node is in the chain's registry, under the node
	// ID the storage network uses.
	var reg struct {
		Nodes []struct {
			NodeID string `json:"node_id"`
			Status string `json:"status"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(stratos(t, bin, "query", "register", "resource-nodes", "--home", home, "-o", "json"), &reg); err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	for _, n := range reg.Nodes {
		registered[n.NodeID] = n.Status == "NODE_STATUS_ACTIVE"
	}
	for _, n := range m.Nodes {
		if n.Role == "resource" && !registered[n.ID] {
			t.Fatalf("resource node %s (%s) is not registered and active on chain: %v", n.Name, n.ID, registered)
		}
	}
	// Uploads are paid from prepay (x/sds): node0 has prepaid nothing and
	// is refused with the command that fixes it; once it prepays through
	// the CLI, its upload goes through.
	out, err := exec.Command(bin, "put", "--home", home, "--from", "node0", src, "/node0.mp4").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "stratos tx sds prepay") {
		t.Fatalf("upload with nothing prepaid: %v\n%s", err, out)
	}
	// node0's key cannot act in user's namespace (DESIGN §3: the account
	// key signs requests), neither to read nor to spend user's prepay.
	for _, args := range [][]string{{"ls", "/videos"}, {"put", src, "/videos/intruder.mp4"}, {"rm", "/videos/movie.mp4"}} {
		cmd := append([]string{args[0], "--home", home, "--from", "node0", "--owner", user}, args[1:]...)
		out, err := exec.Command(bin, cmd...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "not signed by the owner") {
			t.Fatalf("stratos %s as node0 in user's namespace: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	prepaid := func(want string) func() bool {
		return func() bool {
			var p struct {
				Prepaid struct{ Amount string } `json:"prepaid"`
			}
			json.Unmarshal(stratos(t, bin, "query", "sds", "prepaid", node0, "--home", home, "-o", "json"), &p)
			return p.Prepaid.Amount == want
		}
	}
	// A prepay too small for the traffic is refused too (DESIGN §7): 1 ustos
	// pays about 1 MB at the default 1,000 ustos/GiB; the 5 MiB file is 15 MiB
	// of traffic with its three replicas.
	stratos(t, bin, "tx", "sds", "prepay", "1ustos", "--from", "node0", "--home", home, "--yes", "--fees", "3000ustos")
	waitFor(t, "the 1 ustos prepay lands", prepaid("1"))
	waitFor(t, "the meta node refuses an upload beyond the prepay", func() bool {
		// Until its cached balance (5 s) expires it still says "nothing prepaid".
		out, err := exec.Command(bin, "put", "--home", home, "--from", "node0", src, "/node0.mp4").CombinedOutput()
		if err == nil {
			t.Fatalf("upload beyond the prepay accepted:\n%s", out)
		}
		return strings.Contains(string(out), "prepay more")
	})
	stratos(t, bin, "tx", "sds", "prepay", "10000000ustos", "--from", "node0", "--home", home, "--yes", "--fees", "3000ustos")
	waitFor(t, "the prepay lands", prepaid("10000001"))
	waitFor(t, "node0's upload is accepted", func() bool {
		return exec.Command(bin, "put", "--home", home, "--from", "node0", src, "/node0.mp4").Run() == nil
	})
	// Proof-of-Traffic (DESIGN §7): the meta node reports each period's
	// audited upload traffic to x/pot; the holders of movie.mp4 earn part of
	// the traffic fees and the period's issuance they unlock (x/pot caps it at the
	// fees), and their operator withdraws it.
	holder0 := stat.Slices[0].Replicas[2] // the holder of slice 0 that was never killed
	rewards := func(node string) int64 {
		var r struct {
			Total string `json:"total"`
		}
		json.Unmarshal(stratos(t, bin, "query", "pot", "rewards", node, "--home", home, "-o", "json"), &r)
		n, _ := strconv.ParseInt(r.Total, 10, 64)
		return n
	}
	waitFor(t, "traffic rewards for a holder", func() bool { return rewards(holder0) > 0 })
	operator := strings.TrimSpace(string(stratos(t, bin, "keys", "show", "operator", "-a", "--home", home)))
	opBefore := balanceOf(t, bin, home, operator, "ustos")
	earned := rewards(holder0)
	stratos(t, bin, "tx", "pot", "withdraw-rewards", holder0, "--from", "operator", "--home", home, "--yes", "--fees", "3000ustos")
	waitFor(t, "the operator withdraws the rewards", func() bool {
		return balanceOf(t, bin, home, operator, "ustos") >= opBefore+earned-3000
	})
	node0Balance := balanceOf(t, bin, home, node0, "ustos")

	// x/pot's periods come from block time (10 s on a devnet); the meta node
	// reported a period that had ended, and the current one is not reported.
	var period struct {
		Current       string `json:"current"`
		LastReported  string `json:"last_reported"`
		Reported      bool   `json:"reported"`
		PeriodSeconds string `json:"period_seconds"`
	}
	if err := json.Unmarshal(stratos(t, bin, "query", "pot", "period", "--home", home, "-o", "json"), &period); err != nil {
		t.Fatal(err)
	}
	cur, _ := strconv.ParseUint(period.Current, 10, 64)
	last, _ := strconv.ParseUint(period.LastReported, 10, 64)
	if !period.Reported || last >= cur || period.PeriodSeconds != "10" {
		t.Fatalf("pot period %+v: want 10 s periods with an ended one reported", period)
	}

	// The meta leader anchors its index root on chain every ledger period.
	metaIDs := map[string]bool{}
	for _, n := range m.Nodes {
		if n.Role == "meta" {
			metaIDs[n.ID] = true
		}
	}
	if len(metaIDs) != 3 {
		t.Fatalf("%d meta nodes in devnet.json, want the default cluster of 3", len(metaIDs))
	}
	waitFor(t, "an index anchor from the meta cluster", func() bool {
		var a struct {
			Anchors []struct {
				MetaNodeID string `json:"meta_node_id"`
				Root       string `json:"root"`
			} `json:"anchors"`
		}
		json.Unmarshal(stratos(t, bin, "query", "sds", "anchors", "--home", home, "-o", "json"), &a)
		for _, x := range a.Anchors {
			if metaIDs[x.MetaNodeID] && x.Root != "" {
				return true
			}
		}
		return false
	})

	// Issue 7: kill -9 the meta leader; a new one is elected and files are
	// written and read as before (DESIGN §5.2).
	var st struct {
		MetaNodeID string `json:"meta_node_id"`
		MetaNodes  []struct {
			ID, State, LeaderID string
		} `json:"meta_nodes"`
	}
	if err := json.Unmarshal(stratos(t, bin, "status", "--home", home, "--json"), &st); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(byID[st.MetaNodeID].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	after := randomBytes(77, 3<<20)
	afterSrc := filepath.Join(t.TempDir(), "after")
	os.WriteFile(afterSrc, after, 0o644)
	stratos(t, bin, "put", "--home", home, afterSrc, "/after-failover.bin")
	if got := stratos(t, bin, "get", "--home", home, "/videos/movie.mp4", "-"); !bytes.Equal(got, data) {
		t.Fatal("download after the meta leader's kill -9 differs")
	}
	if err := json.Unmarshal(stratos(t, bin, "status", "--home", home, "--json"), &st); err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, mn := range st.MetaNodes {
		states[mn.State]++
	}
	if states["Leading"] != 1 || states["Following"] != 1 || states["unreachable"] != 1 {
		t.Fatalf("meta nodes after the leader's kill -9: %+v", st.MetaNodes)
	}

	d.stop(t)
	d = startDevnet(t, bin, home)
	defer d.stop(t)
	stratos(t, bin, "status", "--home", home, "--wait", "1m")
	if got := stratos(t, bin, "get", "--home", home, "/after-failover.bin", "-"); !bytes.Equal(got, after) {
		t.Fatal("the file written after the failover differs after a restart")
	}
	var ls struct {
		Entries []struct{ Name string } `json:"entries"`
	}
	if err := json.Unmarshal(stratos(t, bin, "ls", "--home", home, "--json", "/videos"), &ls); err != nil {
		t.Fatal(err)
	}
	if len(ls.Entries) != 1 || ls.Entries[0].Name != "movie.mp4" {
		t.Fatalf("after restart ls /videos = %+v, want only movie.mp4", ls.Entries)
	}
	if got := stratos(t, bin, "get", "--home", home, "/videos/movie.mp4", "-"); !bytes.Equal(got, data) {
		t.Fatal("download after devnet restart differs")
	}
	// Chain state survives the restart, and blocks come again.
	if got := balanceOf(t, bin, home, node0, "ustos"); got != node0Balance {
		t.Fatalf("balance after restart %d, want %d", got, node0Balance)
	}
	waitFor(t, "blocks after the restart", func() bool { return chainHeight(t, bin, home) > heightBefore })
}

func balanceOf(t *testing.T, bin, home, addr, denom string) int64 {
	t.Helper()
	var out struct {
		Balances []struct{ Denom, Amount string } `json:"balances"`
	}
	if err := json.Unmarshal(stratos(t, bin, "query", "bank", "balances", addr, "--home", home, "-o", "json"), &out); err != nil {
		t.Fatal(err)
	}
	for _, b := range out.Balances {
		if b.Denom == denom {
			n, err := strconv.ParseInt(b.Amount, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	return 0
}

func chainHeight(t *testing.T, bin, home string) int64 {
	t.Helper()
	var st struct {
		Chain *struct {
			ChainID string `json:"chain_id"`
			Height  int64  `json:"height"`
		} `json:"chain"`
	}
	// status exits 1 while the storage network is not ready (a meta leader
	// elected a moment ago knows no node's free space until its next
	// heartbeat), and still prints the chain: only the chain matters here.
	out, err := exec.Command(bin, "status", "--home", home, "--json").Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("stratos status --json: %v\n%s", err, out)
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("stratos status --json: %v\n%s", err, out)
	}
	if st.Chain == nil || st.Chain.ChainID == "" {
		t.Fatal("status --json has no chain")
	}
	return st.Chain.Height
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// A second devnet on the same home is refused; bad flags give clear errors.
func TestDevnetErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	out, err := exec.Command(bin, "devnet", "--home", t.TempDir(), "--replicas", "5", "--resource", "3").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--replicas 5") {
		t.Fatalf("devnet with more replicas than nodes: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "put", "--home", t.TempDir(), "/etc/hostname", "/x").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "stratos devnet") {
		t.Fatalf("put with no network should say how to start one: %v\n%s", err, out)
	}
}

// Issue 3: with four validators, one down keeps blocks coming, two down
// halt the chain, and bringing one back resumes it. "Down" is SIGSTOP: the
// process keeps its state and sockets, as a machine that hangs would.
func TestDevnetFourValidators(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a devnet with four validators")
	}
	bin := buildBinary(t)
	home := t.TempDir()
	d := startDevnet(t, bin, home, "--validators", "4", "--resource", "2", "--replicas", "2", "--min-replicas", "1")
	defer d.stop(t)
	m, err := devnet.ReadManifest(home)
	if err != nil {
		t.Fatal(err)
	}
	var vals []int
	for _, n := range m.Nodes {
		if n.Role == "validator" {
			vals = append(vals, n.PID)
		}
	}
	if len(vals) != 4 {
		t.Fatalf("%d validators in devnet.json, want 4", len(vals))
	}
	pause := func(pid int) { syscall.Kill(pid, syscall.SIGSTOP) }
	resume := func(pid int) { syscall.Kill(pid, syscall.SIGCONT) }
	defer func() {
		for _, pid := range vals {
			resume(pid)
		}
	}()
	// validator-0 answers status; the others are the ones stopped.
	pause(vals[3])
	h := chainHeight(t, bin, home)
	waitFor(t, "blocks with one validator of four down", func() bool { return chainHeight(t, bin, home) >= h+3 })
	pause(vals[2])
	time.Sleep(3 * time.Second) // a block already being decided may still land
	halted := chainHeight(t, bin, home)
	time.Sleep(5 * time.Second) // five block times
	if got := chainHeight(t, bin, home); got > halted+1 {
		t.Fatalf("two of four validators down, yet the height moved from %d to %d", halted, got)
	}
	resume(vals[3])
	waitFor(t, "blocks once a third validator is back", func() bool { return chainHeight(t, bin, home) >= halted+3 })
}
