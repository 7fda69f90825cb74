package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// dashboardView is what the dashboard page shows, read from its DOM.
type dashboardView struct {
	Files, Slices, Height, Prepay, Ready string
	Nodes                                []struct{ ID, State, Slices string }
	Metas                                []struct{ ID, State, Leader string }
	Owned                                []struct{ Path, Copies, Holders string }
	Drawn                                int
}

const readDashboard = `(() => {
  const t = (id) => document.getElementById(id).textContent;
  const rows = (id) => [...document.getElementById(id).tBodies[0].rows];
  const k = (tr, key) => (tr.querySelector('[data-k="' + key + '"]') || {}).textContent;
  return JSON.stringify({
    Files: t("files"), Slices: t("slices"), Height: t("height"), Prepay: t("prepay"), Ready: t("ready"),
    Nodes: rows("nodes").map((tr) => ({ID: tr.dataset.id, State: k(tr, "state"), Slices: k(tr, "slices")})),
    Metas: rows("metas").map((tr) => ({ID: tr.dataset.id, State: k(tr, "state"), Leader: tr.querySelector('[data-k="leader"]').title})),
    Owned: rows("owned").map((tr) => ({Path: tr.dataset.path, Copies: k(tr, "copies"), Holders: tr.cells[4].title})),
    Drawn: Number(document.body.dataset.drawn || 0),
  });
})()`

// Issue 9: the dashboard "refreshes live. A test loads it in headless
// Chromium, checks that the figures match `stratos status --json`, and
// saves a screenshot as a test artifact." The test artifact goes to
// $STRATOS_ARTIFACTS (.ci/run sets it) or the test's temporary directory.
func dashboardMatchesStatus(t *testing.T, bin, dir, base string) {
	browser := chromium(t)
	src := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(src, randomBytes(7, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	stratos(t, bin, "put", "--home", dir, src, "/dashboard/report.pdf")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1400, 1800))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(strings.TrimSuffix(base, "/")+"/")); err != nil {
		t.Fatal(err)
	}
	view := func() dashboardView {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](readDashboard))
		if err != nil {
			t.Fatal(err)
		}
		var v dashboardView
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Drawn twice: the page has refreshed itself once at least.
	deadline := time.Now().Add(30 * time.Second)
	for view().Drawn < 2 {
		if time.Now().After(deadline) {
			errText, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("error").textContent`))
			t.Fatalf("the dashboard did not draw twice in 30 s: %q", errText)
		}
		time.Sleep(100 * time.Millisecond)
	}
	type status struct {
		Ready         bool
		Files, Slices uint64
		Nodes         []struct{ ID, State string }
		MetaNodes     []struct {
			ID, State string
			LeaderID  string `json:"leader_id"`
		} `json:"meta_nodes"`
		Chain  struct{ Height int64 }
		Prepay struct{ Ustos uint64 }
	}
	// The network moves (blocks, prepay charged each period): compare a
	// view with the status read right after it, and try again a few times
	// before calling a difference a failure.
	var diffs []string
	var v dashboardView
	for range 5 {
		v = view()
		var st status
		if err := json.Unmarshal(stratos(t, bin, "status", "--home", dir, "--json"), &st); err != nil {
			t.Fatal(err)
		}
		diffs = nil
		check := func(what, got, want string) {
			if got != want {
				diffs = append(diffs, fmt.Sprintf("%s: dashboard %q, status %q", what, got, want))
			}
		}
		check("files", v.Files, fmt.Sprint(st.Files))
		check("slices", v.Slices, fmt.Sprint(st.Slices))
		check("ready", v.Ready, map[bool]string{true: "ready", false: "NOT READY"}[st.Ready])
		check("prepay", v.Prepay, commas(st.Prepay.Ustos))
		if h, err := parseInt(v.Height); err != nil || h > st.Chain.Height || h < st.Chain.Height-10 {
			diffs = append(diffs, fmt.Sprintf("height: dashboard %q, status %d", v.Height, st.Chain.Height))
		}
		check("resource nodes", fmt.Sprint(len(v.Nodes)), fmt.Sprint(len(st.Nodes)))
		for i := range min(len(v.Nodes), len(st.Nodes)) {
			check("node "+st.Nodes[i].ID, v.Nodes[i].ID+" "+v.Nodes[i].State, st.Nodes[i].ID+" "+st.Nodes[i].State)
		}
		check("meta nodes", fmt.Sprint(len(v.Metas)), fmt.Sprint(len(st.MetaNodes)))
		for i := range min(len(v.Metas), len(st.MetaNodes)) {
			m := st.MetaNodes[i]
			check("meta node "+m.ID, v.Metas[i].ID+" "+v.Metas[i].State+" "+v.Metas[i].Leader, m.ID+" "+m.State+" "+m.LeaderID)
		}
		if len(diffs) == 0 {
			break
		}
		time.Sleep(time.Second)
	}
	if len(diffs) > 0 {
		t.Fatalf("the dashboard differs from stratos status --json:\n%s", strings.Join(diffs, "\n"))
	}
	// Files and where their replicas live: the holders shown are the
	// replicas stratos stat lists.
	if len(v.Owned) == 0 {
		t.Fatal("the dashboard lists none of the user's files")
	}
	f := v.Owned[0]
	var stat struct {
		Slices []struct{ Replicas []string } `json:"slices"`
	}
	if err := json.Unmarshal(stratos(t, bin, "stat", "--home", dir, "--json", f.Path), &stat); err != nil {
		t.Fatal(err)
	}
	var holders []string
	fewest := -1
	for _, s := range stat.Slices {
		holders = append(holders, s.Replicas...)
		if fewest < 0 || len(s.Replicas) < fewest {
			fewest = len(s.Replicas)
		}
	}
	slices.Sort(holders)
	if got, want := strings.Fields(f.Holders), slices.Compact(holders); !slices.Equal(got, want) || f.Copies != fmt.Sprint(fewest) {
		t.Fatalf("%s: dashboard holders %q (fewest copies %s), stat %q (%d)", f.Path, got, f.Copies, want, fewest)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("STRATOS_ARTIFACTS")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(out, "dashboard.png") // FullScreenshot at quality 100 is a PNG
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("dashboard screenshot (%d KiB): %s", len(png)>>10, shot)
}

// commas formats n as JavaScript's toLocaleString("en") does.
func commas(n uint64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func parseInt(s string) (int64, error) {
	var n int64
	_, err := fmt.Sscan(s, &n)
	return n, err
}
