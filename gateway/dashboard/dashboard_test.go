package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratos-net/stratos/overview"
)

func TestServesPageAssetsAndReport(t *testing.T) {
	var calls atomic.Int32
	h := New(func(context.Context) (overview.Report, error) {
		calls.Add(1)
		return overview.Report{Files: 7, Ready: true}, nil
	}, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, want := range map[string]string{"/": `<script src="/dashboard/app.js">`, "/dashboard/app.js": "textContent", "/dashboard/style.css": ".cards"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("%s: %d, %q missing", path, resp.StatusCode, want)
		}
	}
	if resp, _ := http.Get(srv.URL + "/dashboard/../../etc/passwd"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a path outside the assets: %d", resp.StatusCode)
	}
	// Many pages at once: one collection per second, shared.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := http.Get(srv.URL + Status)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var r overview.Report
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Files != 7 {
				t.Errorf("report: %+v %v", r, err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("20 requests within a second collected %d reports, want 1", n)
	}
}

func TestReportErrorIs503(t *testing.T) {
	h := New(func(context.Context) (overview.Report, error) {
		return overview.Report{}, errors.New("meta node unavailable")
	}, slog.New(slog.DiscardHandler))
	h.maxAge = time.Nanosecond
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", Status, nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "meta node unavailable") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}
