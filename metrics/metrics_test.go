package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", Path, nil))
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func TestGaugesAndHTTP(t *testing.T) {
	reg := NewRegistry()
	var fail error
	reg.MustRegister(Gauges("stratos_meta", map[string]string{"files": "Files.", "slices": "Slices."}, func() (map[string]float64, error) {
		return map[string]float64{"files": 3, "slices": 7}, fail
	}))
	inst := NewHTTP(reg, "stratos_gateway")
	h := inst.Wrap("s3", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte("hello"))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", "/b/k", strings.NewReader("12345678")))
	out := scrape(t, Handler(reg))
	for _, want := range []string{"go_goroutines", "stratos_meta_files 3", "stratos_meta_slices 7",
		`stratos_gateway_http_requests_total{api="s3",code="201",method="PUT"} 1`,
		`stratos_gateway_http_received_bytes_total{api="s3"} 8`, `stratos_gateway_http_sent_bytes_total{api="s3"} 5`} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %q in\n%s", want, out)
		}
	}
	fail = errors.New("status unavailable")
	w := httptest.NewRecorder()
	Handler(reg).ServeHTTP(w, httptest.NewRequest("GET", Path, nil))
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("a failed read: %d, want 500 (Prometheus marks the scrape failed)", w.Code)
	}
}
