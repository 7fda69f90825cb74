// Package dashboard is the gateway's web dashboard (issue 9; DESIGN §9):
// plain HTML, CSS and JavaScript embedded in the binary, no build step. The
// page asks status.json for an overview.Report every two seconds (the same
// report `stratos status --json` prints) and draws the resource nodes with
// their health, free space and load, the meta nodes with their PoA states,
// the account's files and where their replicas live, repairs in flight,
// the chain's height and recent blocks, the last ledger period's traffic,
// rank and rewards per node, and the account's prepay.
package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/stratos-net/stratos/overview"
)

// Paths the handler serves: the page at Root, the rest under Prefix.
const (
	Root   = "/"
	Prefix = "/dashboard/"
	Status = Prefix + "status.json"
)

//go:embed static
var static embed.FS

// Source collects the report.
type Source func(ctx context.Context) (overview.Report, error)

// Handler serves the dashboard.
type Handler struct {
	source Source
	log    *slog.Logger
	now    func() time.Time
	maxAge time.Duration // a report this fresh is served again

	mu      sync.Mutex
	last    []byte
	lastAt  time.Time
	pending chan struct{} // closed when the collection in flight ends
}

// New returns a handler drawing source's reports.
func New(source Source, log *slog.Logger) *Handler {
	return &Handler{source: source, log: log, now: time.Now, maxAge: time.Second}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	switch r.URL.Path {
	case Root:
		hdr.Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, static, "static/index.html")
	case Prefix + "app.js", Prefix + "style.css":
		hdr.Set("Cache-Control", "no-cache")
		http.ServeFileFS(w, r, static, "static/"+r.URL.Path[len(Prefix):])
	case Status:
		b, err := h.report(r.Context())
		if err != nil {
			h.log.Warn("dashboard: status", "err", err)
			hdr.Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Cache-Control", "no-store")
		w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

// report is the latest report's JSON, collected at most once per maxAge
// however many pages are open, and once at a time.
func (h *Handler) report(ctx context.Context) ([]byte, error) {
	for {
		h.mu.Lock()
		if h.last != nil && h.now().Sub(h.lastAt) < h.maxAge {
			b := h.last
			h.mu.Unlock()
			return b, nil
		}
		if wait := h.pending; wait != nil {
			h.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		h.pending = done
		h.mu.Unlock()

		rep, err := h.source(ctx)
		var b []byte
		if err == nil {
			b, err = json.Marshal(rep)
		}
		h.mu.Lock()
		if err == nil {
			h.last, h.lastAt = b, h.now()
		}
		h.pending = nil
		close(done)
		h.mu.Unlock()
		return b, err
	}
}
