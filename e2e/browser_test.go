package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/gateway"
	"github.com/stratos-net/stratos/gateway/keys"
	"github.com/stratos-net/stratos/gateway/share"
	"github.com/stratos-net/stratos/internal/cluster"
)

// chromium finds Debian's headless browser. .ci/run installs it and sets
// STRATOS_BROWSER=require, so there a missing one fails; elsewhere the
// test is skipped.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("STRATOS_BROWSER") == "require" {
		t.Fatal("no chromium (Debian: apt-get install chromium)")
	}
	t.Skip("no chromium installed")
	return ""
}

// wav is secs of a 440 Hz tone, 44.1 kHz 16-bit stereo PCM: a file any
// browser plays and seeks with byte ranges, made without an encoder.
func wav(secs int) []byte {
	const rate, channels = 44100, 2
	n := rate * secs
	var b bytes.Buffer
	data := uint32(n * channels * 2)
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, 36+data)
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, struct {
		Size                   uint32
		Format, Channels       uint16
		Rate, ByteRate         uint32
		BlockAlign, SampleBits uint16
	}{16, 1, channels, rate, rate * channels * 2, channels * 2, 16})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, data)
	for i := range n {
		v := int16(8000 * math.Sin(2*math.Pi*440*float64(i)/rate))
		binary.Write(&b, binary.LittleEndian, [2]int16{v, v})
	}
	return b.Bytes()
}

// Issue 9: media stored on the network plays in a browser from
// /stream/<path>, and seeking to the middle starts there without fetching
// the whole file first.
func TestBrowserPlaysAndSeeksAStream(t *testing.T) {
	browser := chromium(t)
	c := cluster.Start(t, cluster.DefaultOptions())
	media := wav(120) // about 21 MB: 81 slices of 256 KiB
	put(t, c.Client(), "/media/tone.wav", media)

	ks, _ := keys.Open(t.TempDir() + "/keys.json")
	cfg := gateway.DefaultConfig()
	cfg.Listen, cfg.Stream = "127.0.0.1:0", c.Client()
	g, err := gateway.Start(cfg, ks, func(keys.Key) (gateway.Files, error) { return c.Client(), nil })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	// Watch the ranges the browser asks for on its way to the gateway.
	var mu sync.Mutex
	var ranges []string
	target, _ := url.Parse(g.URL())
	forward := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ranges = append(ranges, r.Header.Get("Range"))
		mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><video id="v" src="%s/stream/media/tone.wav" muted autoplay preload="auto"></video>`, proxy.URL)
	}))
	defer page.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"), chromedp.Flag("disable-gpu", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(page.URL)); err != nil {
		t.Fatal(err)
	}
	current := func() float64 {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("v").currentTime`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	waitUntil := func(what string, cond func() bool) time.Duration {
		start := time.Now()
		for !cond() {
			if time.Since(start) > 30*time.Second {
				state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(v => JSON.stringify({t: v.currentTime, ready: v.readyState, net: v.networkState, err: v.error && v.error.message, paused: v.paused}))(document.getElementById("v"))`))
				code, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("v").error ? document.getElementById("v").error.code : 0`))
				resp, err := http.Get(proxy.URL + "/stream/media/tone.wav")
				if err == nil {
					resp.Body.Close()
				}
				mu.Lock()
				defer mu.Unlock()
				t.Fatalf("%s: not within 30 s; the video element: %s (error code %v); ranges asked: %q; GET: %v %v", what, state, code, ranges, resp.Header, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		return time.Since(start)
	}
	waitUntil("playback advances", func() bool { return current() > 1 })
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("v").currentTime = 60`)); err != nil {
		t.Fatal(err)
	}
	took := waitUntil("playback after a seek to the middle", func() bool { t := current(); return t > 60.3 && t < 70 })
	t.Logf("playing again 0.3 s past the seek after %s", took.Round(time.Millisecond))

	mu.Lock()
	defer mu.Unlock()
	mid := false
	for _, r := range ranges {
		if from, ok := strings.CutPrefix(r, "bytes="); ok {
			first, _, _ := strings.Cut(from, "-")
			if n, err := strconv.Atoi(first); err == nil && n > len(media)/3 {
				mid = true
			}
		}
	}
	if !mid {
		t.Fatalf("the seek asked for no range in the middle of the file: %q", ranges)
	}
}

// Issue 9: "a share of an encrypted file carries its key in the link's
// fragment, never to the server": the share page fetches the ciphertext
// and decrypts it in Chromium with WebCrypto; the gateway never sees the
// key, and a link with another key says so instead of showing garbage.
func TestBrowserOpensAnEncryptedShareLink(t *testing.T) {
	browser := chromium(t)
	c := cluster.Start(t, cluster.DefaultOptions())
	cl := c.Client()
	plain := bytes.Repeat([]byte("Dear tax office, these are my figures.\n"), 9000) // 351 KB: 6 records, 2 slices
	if _, err := cl.Put(context.Background(), "/docs/tax.txt", bytes.NewReader(plain), int64(len(plain)), client.PutOptions{Encrypt: true}); err != nil {
		t.Fatal(err)
	}
	key, err := cl.FileKey(context.Background(), "/docs/tax.txt")
	if err != nil {
		t.Fatal(err)
	}
	shares, err := share.Open(share.Path(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := shares.Create(share.Share{Account: "user", Address: cluster.Owner, Path: "/docs/tax.txt", Encrypted: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := keys.Open(t.TempDir() + "/keys.json")
	cfg := gateway.DefaultConfig()
	cfg.Listen, cfg.Shares = "127.0.0.1:0", shares
	// Every request the gateway gets, to check that no key reaches it.
	var mu sync.Mutex
	var seen []string
	g, err := gateway.Start(cfg, ks, func(keys.Key) (gateway.Files, error) { return cl, nil })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	target, _ := url.Parse(g.URL())
	forward := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.String())
		mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	k64 := base64.RawURLEncoding.EncodeToString(key[:])

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	open := func(fragment string) (state, status string) {
		// Via a blank page: a new fragment alone would not load the page again.
		if _, err := chromedp.Run(ctx, chromedp.Navigate("about:blank")); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Navigate(proxy.URL+share.Prefix+token+fragment)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("sealed").dataset.state || ""`))
			if err != nil {
				t.Fatal(err)
			}
			if state != "" || time.Now().After(deadline) {
				status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status").textContent`))
				return state, status
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	start := time.Now()
	state, status := open("#k=" + k64)
	if state != "open" {
		t.Fatalf("the page did not open the file: state %q, %q", state, status)
	}
	t.Logf("decrypted in the browser in %s", time.Since(start).Round(time.Millisecond))
	// Read the plaintext the page made back out of its blob URL.
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("sealed").blob.text()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(plain) {
		t.Fatalf("the page's plaintext differs: %d bytes, want %d", len(got), len(plain))
	}
	wrong := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if state, status := open("#k=" + wrong); state != "failed" || !strings.Contains(status, "Wrong key") {
		t.Fatalf("another key: state %q, %q", state, status)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range seen {
		if strings.Contains(u, k64) || strings.Contains(u, wrong) {
			t.Fatalf("a key reached the gateway: %s", u)
		}
	}
	if len(seen) < 4 {
		t.Fatalf("the browser asked the gateway for %q", seen)
	}
}
