package share

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stratos-net/stratos/client"
	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// fakeFiles is one account's namespace in memory: path -> bytes.
type fakeFiles struct {
	files     map[string][]byte
	encrypted map[string]bool
}

func (f *fakeFiles) entry(p string) *metav1.FileEntry {
	return &metav1.FileEntry{Path: p, FileId: "file-" + path.Base(p), Size: uint64(len(f.files[p])), Encrypted: f.encrypted[p]}
}

func (f *fakeFiles) Stat(_ context.Context, p string) (*metav1.StatResponse, error) {
	if _, ok := f.files[p]; !ok {
		return nil, fmt.Errorf("stat %s: %w", p, client.ErrNotFound)
	}
	return &metav1.StatResponse{File: f.entry(p)}, nil
}

func (f *fakeFiles) List(_ context.Context, dir string) ([]*metav1.DirEntry, error) {
	seen := map[string]*metav1.DirEntry{}
	for p := range f.files {
		rest, ok := strings.CutPrefix(p, strings.TrimSuffix(dir, "/")+"/")
		if !ok {
			continue
		}
		if name, _, isDir := strings.Cut(rest, "/"); isDir {
			seen[name] = &metav1.DirEntry{Name: name, Dir: true}
		} else {
			seen[rest] = &metav1.DirEntry{Name: rest, File: f.entry(p)}
		}
	}
	var out []*metav1.DirEntry
	for _, e := range seen {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out, nil
}

func (f *fakeFiles) read(p string, off, n int64, w io.Writer) error {
	b, ok := f.files[p]
	if !ok {
		for q := range f.files { // by file ID
			if f.entry(q).GetFileId() == p {
				b, ok = f.files[q], true
			}
		}
	}
	if !ok {
		return client.ErrNotFound
	}
	_, err := w.Write(b[off : off+n])
	return err
}

func (f *fakeFiles) GetRange(_ context.Context, p string, off, n int64, w io.Writer) error {
	return f.read(p, off, n, w)
}

func (f *fakeFiles) GetStoredRange(_ context.Context, p string, off, n int64, w io.Writer) error {
	return f.read(p, off, n, w)
}

type harness struct {
	store *Store
	srv   *httptest.Server
	now   time.Time
}

func newHarness(t *testing.T, files *fakeFiles) *harness {
	t.Helper()
	store, err := Open(Path(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{store: store, now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	handler := New(store, func(account, address string) (Files, error) {
		if account != "user" {
			return nil, errors.New("unknown account")
		}
		return files, nil
	}, slog.New(slog.DiscardHandler), func() time.Time { return h.now })
	h.srv = httptest.NewServer(handler)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) share(t *testing.T, sh Share) (Share, string) {
	t.Helper()
	sh.Account, sh.Address = "user", "st1user"
	sh, token, err := h.store.Create(sh, h.now)
	if err != nil {
		t.Fatal(err)
	}
	return sh, h.srv.URL + Prefix + token
}

func get(t *testing.T, u string, edit ...func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for _, e := range edit {
		e(req)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func browser(r *http.Request) { r.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8") }

func testFiles() *fakeFiles {
	return &fakeFiles{files: map[string][]byte{
		"/videos/movie.mp4":   []byte("0123456789abcdefghij"),
		"/photos/a.jpg":       []byte("jpeg a"),
		"/photos/2026/b.jpg":  []byte("jpeg b"),
		"/private/secret.txt": []byte("not shared"),
		"/docs/tax.pdf":       []byte("STRATOS\x01 pretend ciphertext"),
	}, encrypted: map[string]bool{"/docs/tax.pdf": true}}
}

// Issue 9: "opening one works in a browser (a download page, and streaming
// for media) and with curl".
func TestFileLinkServesBytesAndAPage(t *testing.T) {
	h := newHarness(t, testFiles())
	_, link := h.share(t, Share{Path: "/videos/movie.mp4"})
	resp, body := get(t, link)
	if resp.StatusCode != http.StatusOK || body != "0123456789abcdefghij" || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Fatalf("curl: %d %q %s", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("headers: %v", resp.Header)
	}
	resp, body = get(t, link, func(r *http.Request) { r.Header.Set("Range", "bytes=10-14") })
	if resp.StatusCode != http.StatusPartialContent || body != "abcde" {
		t.Fatalf("range: %d %q", resp.StatusCode, body)
	}
	resp, body = get(t, link, browser)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<video id="player"`) || !strings.Contains(body, "movie.mp4") {
		t.Fatalf("page: %d %s", resp.StatusCode, body)
	}
	resp, _ = get(t, link+"?dl=1", browser)
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, "movie.mp4") {
		t.Fatalf("download: %q", cd)
	}
	// A file link opens nothing below or beside it.
	if resp, _ := get(t, link+"/../../private/secret.txt"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("path under a file link: %d", resp.StatusCode)
	}
}

// Issue 9: "Revoked or expired links answer 403/410 clearly"; a made-up
// token is refused before any lookup.
func TestRevokedExpiredAndForgedLinks(t *testing.T) {
	h := newHarness(t, testFiles())
	sh, link := h.share(t, Share{Path: "/videos/movie.mp4", Expires: h.now.Add(time.Hour)})
	if resp, _ := get(t, link); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh: %d", resp.StatusCode)
	}
	h.now = h.now.Add(time.Hour)
	if resp, body := get(t, link); resp.StatusCode != http.StatusGone || !strings.Contains(body, "expired") {
		t.Fatalf("expired: %d %q", resp.StatusCode, body)
	}
	sh2, link2 := h.share(t, Share{Path: "/videos/movie.mp4"})
	if _, err := h.store.Revoke("st1someoneelse", sh2.ID, h.now); !errors.Is(err, ErrUnknown) {
		t.Fatalf("another account revoked the link: %v", err)
	}
	if _, err := h.store.Revoke("st1user", sh2.ID, h.now); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, link2, browser); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "revoked") {
		t.Fatalf("revoked: %d %q", resp.StatusCode, body)
	}
	forged := strings.Replace(link, sh.ID, sh2.ID, 1)
	for _, u := range []string{forged, h.srv.URL + Prefix + sh.ID, h.srv.URL + Prefix + "x.y", h.srv.URL + Prefix} {
		if resp, _ := get(t, u); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("forged %s: %d", u, resp.StatusCode)
		}
	}
}

func TestPasswordLink(t *testing.T) {
	h := newHarness(t, testFiles())
	pw, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	_, link := h.share(t, Share{Path: "/videos/movie.mp4", Password: pw})
	if resp, body := get(t, link); resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "0123") {
		t.Fatalf("no password: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, link, func(r *http.Request) { r.SetBasicAuth("", "wrong") }); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	if resp, body := get(t, link, func(r *http.Request) { r.SetBasicAuth("", "correct horse") }); resp.StatusCode != http.StatusOK || body != "0123456789abcdefghij" {
		t.Fatalf("curl -u :password: %d %q", resp.StatusCode, body)
	}
	// A browser: the form, a wrong try, then the right one sets a cookie
	// that opens the link.
	resp, body := get(t, link, browser)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `type="password"`) {
		t.Fatalf("form: %d %s", resp.StatusCode, body)
	}
	post := func(pw string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader(url.Values{"password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		browser(req)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("nope"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Fatalf("wrong form password: %d %v", resp.StatusCode, resp.Cookies())
	}
	resp = post("correct horse")
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || !resp.Cookies()[0].HttpOnly {
		t.Fatalf("right form password: %d %v", resp.StatusCode, resp.Cookies())
	}
	cookie := resp.Cookies()[0]
	if resp, body := get(t, link, func(r *http.Request) { r.AddCookie(cookie) }); resp.StatusCode != http.StatusOK || body != "0123456789abcdefghij" {
		t.Fatalf("with the cookie: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, link, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: cookieName, Value: "made-up"}) }); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("made-up cookie: %d", resp.StatusCode)
	}
}

func TestDirectoryLinkListsAndServesOnlyItsTree(t *testing.T) {
	h := newHarness(t, testFiles())
	_, link := h.share(t, Share{Path: "/photos", Dir: true})
	if resp, _ := get(t, link); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != strings.TrimPrefix(link, h.srv.URL)+"/" {
		t.Fatalf("no slash: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := get(t, link+"/")
	var list struct {
		Dir     string `json:"dir"`
		Entries []struct {
			Name string `json:"name"`
			Dir  bool   `json:"dir"`
			Href string `json:"href"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("listing: %d %q %v", resp.StatusCode, body, err)
	}
	if len(list.Entries) != 2 || list.Entries[0].Name != "2026" || !list.Entries[0].Dir || list.Entries[1].Name != "a.jpg" {
		t.Fatalf("entries: %+v", list.Entries)
	}
	if _, body := get(t, h.srv.URL+list.Entries[1].Href); body != "jpeg a" {
		t.Fatalf("a.jpg: %q", body)
	}
	if _, body := get(t, link+"/2026/b.jpg"); body != "jpeg b" {
		t.Fatalf("2026/b.jpg: %q", body)
	}
	if resp, body := get(t, link+"/", browser); !strings.Contains(body, "a.jpg") || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("html listing: %s", body)
	}
	// Dot segments, escaped or not, stay inside the shared directory.
	for _, p := range []string{"/../private/secret.txt", "/%2e%2e/private/secret.txt", "/..%2fprivate%2fsecret.txt", "/2026/../../private/secret.txt"} {
		resp, body := get(t, link+p)
		if strings.Contains(body, "not shared") || resp.StatusCode == http.StatusOK {
			t.Fatalf("%s escaped the shared directory: %d %q", p, resp.StatusCode, body)
		}
	}
}

// A link to an encrypted file serves the stored ciphertext, typed as
// octet-stream, and a page whose script opens it with the fragment's key.
func TestEncryptedFileLinkServesCiphertext(t *testing.T) {
	h := newHarness(t, testFiles())
	_, link := h.share(t, Share{Path: "/docs/tax.pdf", Encrypted: true})
	resp, body := get(t, link)
	if body != "STRATOS\x01 pretend ciphertext" || resp.Header.Get("Content-Type") != "application/octet-stream" || resp.Header.Get("X-Stratos-Encrypted") != "crypt-v1" {
		t.Fatalf("raw: %q %v", body, resp.Header)
	}
	resp, body = get(t, link, browser)
	if !strings.Contains(body, `id="sealed"`) || !strings.Contains(body, `src="/s/.static/share.js"`) {
		t.Fatalf("page: %s", body)
	}
	if _, js := get(t, h.srv.URL+staticPath); !bytes.Contains([]byte(js), []byte("AES-GCM")) {
		t.Fatal("script not served")
	}
}

func TestStoreReloadsWhatAnotherProcessWrote(t *testing.T) {
	p := Path(t.TempDir())
	a, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(p) // the gateway's view
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sh, token, err := a.Create(Share{Account: "user", Address: "st1user", Path: "/f"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Resolve(token, now); err != nil || got.ID != sh.ID {
		t.Fatalf("the other store does not see the new link: %v", err)
	}
	time.Sleep(10 * time.Millisecond) // a new mtime
	if _, err := a.Revoke("st1user", sh.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Resolve(token, now); !errors.Is(err, ErrRevoked) {
		t.Fatalf("the other store does not see the revocation: %v", err)
	}
}
