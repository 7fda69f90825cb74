// Package metrics is the Prometheus side of every Stratos process (DESIGN
// §10: "Metrics: Prometheus on every node"): a registry with the Go
// runtime and process collectors, served at /metrics, and the HTTP
// instruments the gateway uses. Each process owns its registry; nothing
// registers globally.
package metrics

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Path is where metrics are served.
const Path = "/metrics"

// NewRegistry returns a registry with the Go runtime and process
// collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves reg in Prometheus's text format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// HTTP counts and times the requests a handler serves, by API (a fixed
// name such as "s3" or "stream"), method and status code, and the bytes
// each way.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	in, out  *prometheus.CounterVec
}

// NewHTTP registers the instruments in reg.
func NewHTTP(reg prometheus.Registerer, namespace string) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests served, by API, method and status code."}, []string{"api", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "http_request_duration_seconds",
			Help: "Time to serve a request, to its last byte.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{"api", "method"}),
		in: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "http_received_bytes_total",
			Help: "Request body bytes read."}, []string{"api"}),
		out: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "http_sent_bytes_total",
			Help: "Response body bytes written."}, []string{"api"}),
	}
	reg.MustRegister(h.requests, h.duration, h.in, h.out)
	return h
}

// Wrap instruments next as api.
func (h *HTTP) Wrap(api string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &recorder{ResponseWriter: w, code: http.StatusOK}
		body := &countingBody{ReadCloser: r.Body}
		if r.Body != nil {
			r.Body = body
		}
		next.ServeHTTP(rw, r)
		h.requests.WithLabelValues(api, r.Method, strconv.Itoa(rw.code)).Inc()
		h.duration.WithLabelValues(api, r.Method).Observe(time.Since(start).Seconds())
		h.in.WithLabelValues(api).Add(float64(body.n))
		h.out.WithLabelValues(api).Add(float64(rw.n))
	})
}

type recorder struct {
	http.ResponseWriter
	code int
	n    int64
}

func (r *recorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

func (r *recorder) Write(p []byte) (int, error) {
	n, err := r.ResponseWriter.Write(p)
	r.n += int64(n)
	return n, err
}

// Flush and Unwrap keep streaming and http.ResponseController working.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}
