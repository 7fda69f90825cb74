package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratos-net/stratos/account"
	"github.com/stratos-net/stratos/devnet"
)

// TestDevnetHostilePeers: issue 8's hostile-peer suite against the
// devnet's processes. The same attackers as TestHostilePeers aim at every
// resource and meta node of a running `stratos devnet`; the honest
// clients are `stratos put` and `stratos get` processes, and the download
// that stops mid-slice is a `stratos get` whose output nobody reads.
// Every honest transfer succeeds and reads back, and every node process
// is still running afterwards.
func TestDevnetHostilePeers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a devnet under attack")
	}
	bin := buildBinary(t)
	home := t.TempDir()
	d := startDevnet(t, bin, home)
	defer d.stop(t)
	m, err := devnet.ReadManifest(home)
	if err != nil {
		t.Fatal(err)
	}
	tg := targets{honestOwner: strings.TrimSpace(string(stratos(t, bin, "keys", "show", "user", "-a", "--home", home)))}
	var pids []int
	for _, n := range m.Nodes {
		switch n.Role {
		case "resource":
			tg.resources = append(tg.resources, peer{n.Addr, n.ID})
		case "meta":
			tg.metas = append(tg.metas, peer{n.Addr, n.ID})
		}
		pids = append(pids, n.PID)
	}
	if tg.signer, tg.owner, err = account.FromSecret([]byte("stratos devnet hostile-peer attacker")); err != nil {
		t.Fatal(err)
	}
	// The stalled downloads are node0's: a user of its own, with a prepay
	// of its own and a file of its own (4 slices of 16 MiB).
	node0 := strings.TrimSpace(string(stratos(t, bin, "keys", "show", "node0", "-a", "--home", home)))
	stratos(t, bin, "tx", "bank", "send", "user", node0, "5000000ustos", "--home", home, "--yes", "--fees", "3000ustos")
	waitFor(t, "node0 is funded", func() bool { return balanceOf(t, bin, home, node0, "ustos") >= 5_000_000 })
	stratos(t, bin, "tx", "sds", "prepay", "2000000ustos", "--from", "node0", "--home", home, "--yes", "--fees", "3000ustos")
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, 64<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node0's prepay lands and its file goes up", func() bool {
		return exec.Command(bin, "put", "--home", home, "--from", "node0", big, "/big").Run() == nil
	})
	tg.stall = func(ctx context.Context) {
		cmd := exec.CommandContext(ctx, bin, "get", "--home", home, "--from", "node0", "/big", "-")
		out, err := cmd.StdoutPipe() // never read
		if err != nil {
			return
		}
		defer out.Close()
		if cmd.Start() == nil {
			cmd.Wait()
		}
	}

	put := func(i, round int) error {
		data := make([]byte, 1<<20)
		var seed [32]byte
		seed[0], seed[1], seed[2] = 'd', byte(i), byte(round)
		rand.NewChaCha8(seed).Read(data)
		src := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(src, data, 0o600); err != nil {
			return err
		}
		path := fmt.Sprintf("/honest/%d/%d", i, round)
		if out, err := exec.Command(bin, "put", "--home", home, src, path).CombinedOutput(); err != nil {
			return fmt.Errorf("put %s: %v\n%s", path, err, out)
		}
		got, err := exec.Command(bin, "get", "--home", home, path, "-").Output()
		if err != nil || !bytes.Equal(got, data) {
			return fmt.Errorf("get %s: %d bytes, %v", path, len(got), err)
		}
		return nil
	}
	rounds := func(from, n int) time.Duration {
		start := time.Now()
		for r := from; r < from+n; r++ {
			var wg sync.WaitGroup
			errs := make([]error, honestClients)
			for i := range honestClients {
				wg.Go(func() { errs[i] = put(i, r) })
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		return time.Since(start)
	}
	quiet := rounds(0, 3)
	a, stop := attack(tg)
	time.Sleep(time.Second)
	attacked := rounds(3, 3)
	for deadline := time.Now().Add(30 * time.Second); a.idle.Load() < 10_000 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	t.Logf("attackers tried %s", a)
	t.Logf("3 rounds of %d honest put+get of 1 MiB through the CLI: %v quiet, %v under attack", honestClients, quiet, attacked)
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != nil {
			t.Fatalf("node process %d is gone after the attack: %v", pid, err)
		}
	}
	for i := range honestClients {
		for r := range 6 {
			path := fmt.Sprintf("/honest/%d/%d", i, r)
			if got, err := exec.Command(bin, "get", "--home", home, path, "-").Output(); err != nil || len(got) != 1<<20 {
				t.Fatalf("after the attack, %s: %d bytes, %v", path, len(got), err)
			}
		}
	}
}
