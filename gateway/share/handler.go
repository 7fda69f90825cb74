package share

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/stratos-net/stratos/client"
	"github.com/stratos-net/stratos/gateway/stream"
	"github.com/stratos-net/stratos/internal/size"
	"google.golang.org/protobuf/proto"

	metav1 "github.com/stratos-net/stratos/proto/stratos/meta/v1"
)

// Prefix is where the handler is mounted: links are <gateway>/s/<token>.
const Prefix = "/s/"

// staticPath serves the share page's script (a path no token can take).
const staticPath = Prefix + ".static/share.js"

// Files is what serving a link needs of an account's client.
type Files interface {
	Stat(ctx context.Context, pathOrID string) (*metav1.StatResponse, error)
	List(ctx context.Context, dir string) ([]*metav1.DirEntry, error)
	GetRange(ctx context.Context, pathOrID string, offset, length int64, w io.Writer) error
	GetStoredRange(ctx context.Context, pathOrID string, offset, length int64, w io.Writer) error
}

// Opener gives the client that reads for a link's account.
type Opener func(account, address string) (Files, error)

// Handler serves links.
type Handler struct {
	store *Store
	open  Opener
	log   *slog.Logger
	now   func() time.Time
}

// New returns a handler for the links in store.
func New(store *Store, open Opener, log *slog.Logger, now func() time.Time) *Handler {
	if now == nil {
		now = time.Now
	}
	return &Handler{store: store, open: open, log: log, now: now}
}

//go:embed share.js
var script []byte

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	hdr.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Path == staticPath {
		hdr.Set("Content-Type", "text/javascript; charset=utf-8")
		hdr.Set("Cache-Control", "no-cache")
		w.Write(script)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		hdr.Set("Allow", "GET, HEAD, POST")
		http.Error(w, "share links answer GET, HEAD and POST (a password)", http.StatusMethodNotAllowed)
		return
	}
	rest := strings.TrimPrefix(r.URL.EscapedPath(), Prefix)
	token, relEsc, _ := strings.Cut(rest, "/")
	sh, err := h.store.Resolve(token, h.now())
	if err != nil {
		h.refuse(w, r, err)
		return
	}
	if !h.authorized(w, r, sh, token) {
		return
	}
	files, err := h.open(sh.Account, sh.Address)
	if err != nil {
		h.log.Warn("share: open account", "account", sh.Account, "err", err)
		h.page(w, r, http.StatusServiceUnavailable, "Unavailable", "The gateway cannot read this account's files now.")
		return
	}
	rel, err := url.PathUnescape(relEsc)
	if err != nil {
		http.Error(w, "bad path escape", http.StatusBadRequest)
		return
	}
	target := sh.Path
	if sh.Dir {
		if !strings.Contains(rest, "/") {
			http.Redirect(w, r, Prefix+token+"/", http.StatusMovedPermanently)
			return
		}
		// Clean inside the link's directory: nothing above it is reachable.
		target = path.Join(sh.Path, path.Clean("/"+rel))
		if strings.HasSuffix(rel, "/") || rel == "" {
			h.listing(w, r, files, sh, token, target)
			return
		}
	} else if rel != "" {
		h.page(w, r, http.StatusNotFound, "Not found", "This link opens one file.")
		return
	}
	st, err := files.Stat(r.Context(), target)
	if err != nil {
		h.readFailed(w, r, target, err)
		return
	}
	f := st.GetFile()
	q := r.URL.Query()
	if !q.Has("raw") && !q.Has("dl") && wantsHTML(r) {
		h.filePage(w, r, sh, token, f)
		return
	}
	if q.Has("dl") {
		hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(f.GetPath())}))
	}
	// The bytes are not a page of this origin, whatever their type.
	hdr.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	if f.GetEncrypted() {
		// The key is in the link's fragment, never here: serve what is
		// stored, for the page (or the holder of the key) to open.
		hdr.Set("X-Stratos-Encrypted", "crypt-v1")
		sealed := proto.CloneOf(f)
		sealed.Object = &metav1.ObjectMeta{ContentType: "application/octet-stream"} // not the plaintext's type
		stream.ServeFile(w, r, sealed, int64(f.GetSize()), files.GetStoredRange, h.log)
		return
	}
	stream.ServeFile(w, r, f, client.PlainSize(f), files.GetRange, h.log)
}

func wantsHTML(r *http.Request) bool { return strings.Contains(r.Header.Get("Accept"), "text/html") }

const cookieName = "stratos_share"

// authorized checks a password-protected link: the share page's cookie,
// or HTTP Basic auth's password (curl -u :PASSWORD), or a POSTed form.
// It answers the request itself when the password is missing or wrong.
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request, sh Share, token string) bool {
	if sh.Password == nil {
		return true
	}
	if c, err := r.Cookie(cookieName); err == nil && c.Value == h.store.CookieValue(sh) {
		return true
	}
	if _, pw, ok := r.BasicAuth(); ok && sh.Password.Check(pw) {
		return true
	}
	wrong := false
	if r.Method == http.MethodPost {
		if pw := r.PostFormValue("password"); pw != "" {
			if sh.Password.Check(pw) {
				http.SetCookie(w, &http.Cookie{Name: cookieName, Value: h.store.CookieValue(sh), Path: Prefix + token,
					HttpOnly: true, SameSite: http.SameSiteStrictMode, Expires: sh.Expires})
				http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
				return false
			}
			wrong = true
		}
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="stratos share link (any user name)"`)
	if !wantsHTML(r) {
		http.Error(w, "this share link needs its password: curl -u :PASSWORD <link>", http.StatusUnauthorized)
		return false
	}
	h.render(w, http.StatusUnauthorized, "password", map[string]any{"Wrong": wrong, "Action": r.URL.Path})
	return false
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrRevoked):
		h.page(w, r, http.StatusForbidden, "Link revoked", "The owner revoked this link. Ask them for a new one.")
	case errors.Is(err, ErrExpired):
		h.page(w, r, http.StatusGone, "Link expired", "This link has expired. Ask its owner for a new one.")
	case errors.Is(err, ErrUnknown):
		h.page(w, r, http.StatusNotFound, "No such link", "Check that the link was copied whole.")
	default:
		h.log.Warn("share: resolve", "err", err)
		h.page(w, r, http.StatusInternalServerError, "Internal error", "The gateway could not read its links.")
	}
}

func (h *Handler) readFailed(w http.ResponseWriter, r *http.Request, target string, err error) {
	switch {
	case errors.Is(err, client.ErrNotFound), errors.Is(err, client.ErrInvalid):
		h.page(w, r, http.StatusNotFound, "Not found", "The shared file is no longer there.")
	case errors.Is(err, client.ErrMetaUnavailable):
		h.page(w, r, http.StatusServiceUnavailable, "Unavailable", "The storage network is unavailable; try again.")
	default:
		h.log.Warn("share: read", "target", target, "err", err)
		h.page(w, r, http.StatusInternalServerError, "Internal error", "The file could not be read.")
	}
}

// page answers with a short message: HTML for a browser, text for curl.
func (h *Handler) page(w http.ResponseWriter, r *http.Request, code int, title, msg string) {
	if !wantsHTML(r) {
		http.Error(w, title+": "+msg, code)
		return
	}
	h.render(w, code, "message", map[string]any{"Title": title, "Message": msg})
}

func (h *Handler) render(w http.ResponseWriter, code int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "+
		"connect-src 'self'; media-src 'self' blob:; img-src 'self' blob:; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(code)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		h.log.Warn("share: page", "err", err)
	}
}

// media is how the page shows a file of this type: "video", "audio",
// "image" or "".
func media(contentType string) string {
	t, _, _ := mime.ParseMediaType(contentType)
	kind, _, _ := strings.Cut(t, "/")
	switch kind {
	case "video", "audio", "image":
		return kind
	}
	return ""
}

func contentType(f *metav1.FileEntry) string {
	if ct := f.GetObject().GetContentType(); ct != "" {
		return ct
	}
	if ct := mime.TypeByExtension(path.Ext(f.GetPath())); ct != "" {
		return ct
	}
	return "application/octet-stream"
}

func (h *Handler) filePage(w http.ResponseWriter, r *http.Request, sh Share, token string, f *metav1.FileEntry) {
	ct := contentType(f)
	self := r.URL.Path
	h.render(w, http.StatusOK, "file", map[string]any{
		"Name": path.Base(f.GetPath()), "Size": client.PlainSize(f), "Human": size.Human(client.PlainSize(f)),
		"Type": ct, "Media": media(ct), "Raw": self + "?raw=1", "Download": self + "?dl=1",
		"Encrypted": f.GetEncrypted(), "Expires": sh.Expires, "Script": staticPath,
	})
}

type listed struct {
	Name    string `json:"name"`
	Dir     bool   `json:"dir,omitempty"`
	Size    int64  `json:"size,omitempty"`
	Href    string `json:"href"`
	Human   string `json:"-"`
	Encrypt bool   `json:"encrypted,omitempty"`
}

func (h *Handler) listing(w http.ResponseWriter, r *http.Request, files Files, sh Share, token, dir string) {
	entries, err := files.List(r.Context(), dir)
	if err != nil {
		h.readFailed(w, r, dir, err)
		return
	}
	base := r.URL.Path
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	out := []listed{}
	for _, e := range entries {
		l := listed{Name: e.GetName(), Dir: e.GetDir(), Href: base + url.PathEscape(e.GetName())}
		if e.GetDir() {
			l.Href += "/"
		} else if fe := e.GetFile(); fe != nil {
			l.Size, l.Encrypt = client.PlainSize(fe), fe.GetEncrypted()
			l.Human = size.Human(l.Size)
		}
		out = append(out, l)
	}
	rel := strings.TrimPrefix(dir, sh.Path)
	if !wantsHTML(r) || r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"dir": "/" + strings.TrimPrefix(rel, "/"), "entries": out})
		return
	}
	h.render(w, http.StatusOK, "dir", map[string]any{"Name": path.Base(sh.Path), "Rel": "/" + strings.TrimPrefix(rel, "/"),
		"Entries": out, "Expires": sh.Expires})
}

var pages = template.Must(template.New("share").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>{{.}} · Stratos</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem;word-break:break-all}.meta{color:#57606a}a.button,button{display:inline-block;padding:.5rem 1rem;
border-radius:6px;background:#0969da;color:#fff;text-decoration:none;border:0;font:inherit;cursor:pointer}
video,audio,img{max-width:100%;margin:1rem 0;display:block}table{border-collapse:collapse;width:100%}
td{padding:.3rem .5rem;border-bottom:1px solid #d0d7de}.err{color:#cf222e}footer{margin-top:3rem;color:#57606a;font-size:.85rem}</style>
</head><body>{{end}}
{{define "foot"}}<footer>Shared through Stratos, a decentralized storage network.</footer></body></html>{{end}}

{{define "message"}}{{template "head" .Title}}<h1>{{.Title}}</h1><p>{{.Message}}</p>{{template "foot"}}{{end}}

{{define "password"}}{{template "head" "Password"}}<h1>This link needs a password</h1>
{{if .Wrong}}<p class="err" id="wrong">That password is not right.</p>{{end}}
<form method="post" action="{{.Action}}"><input type="password" name="password" autofocus required aria-label="password">
<button type="submit">Open</button></form>{{template "foot"}}{{end}}

{{define "file"}}{{template "head" .Name}}<h1 id="name">{{.Name}}</h1>
<p class="meta"><span id="size" data-bytes="{{.Size}}">{{.Human}}</span> · {{.Type}}{{if not .Expires.IsZero}} · link expires {{.Expires.Format "2006-01-02 15:04 MST"}}{{end}}</p>
{{if .Encrypted}}
<div id="sealed" data-raw="{{.Raw}}" data-name="{{.Name}}" data-type="{{.Type}}" data-media="{{.Media}}" data-size="{{.Size}}">
<p id="status">Encrypted on the owner's machine: decrypting in this browser with the key in the link…</p>
<div id="player"></div><p><a class="button" id="download" hidden>Download</a></p></div>
<script src="{{.Script}}"></script>
{{else}}
{{if eq .Media "video"}}<video id="player" controls preload="metadata" src="{{.Raw}}"></video>
{{else if eq .Media "audio"}}<audio id="player" controls preload="metadata" src="{{.Raw}}"></audio>
{{else if eq .Media "image"}}<img id="player" alt="{{.Name}}" src="{{.Raw}}">{{end}}
<p><a class="button" id="download" href="{{.Download}}">Download</a></p>
{{end}}{{template "foot"}}{{end}}

{{define "dir"}}{{template "head" .Name}}<h1>{{.Name}}{{.Rel}}</h1>
{{if not .Expires.IsZero}}<p class="meta">Link expires {{.Expires.Format "2006-01-02 15:04 MST"}}</p>{{end}}
<table id="entries">{{range .Entries}}<tr><td><a href="{{.Href}}">{{.Name}}{{if .Dir}}/{{end}}</a>{{if .Encrypt}} (encrypted){{end}}</td>
<td>{{if not .Dir}}{{.Human}}{{end}}</td><td>{{if not .Dir}}<a href="{{.Href}}?dl=1">download</a>{{end}}</td></tr>{{else}}<tr><td>Empty.</td></tr>{{end}}</table>
{{template "foot"}}{{end}}
`))
