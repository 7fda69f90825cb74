// Package metrics is the Prometheus side of every Stratos process (DESIGN
// §10: "Metrics: Prometheus on every node"): a registry with the Go
// runtime and process collectors, served at /metrics, and the HTTP
// instruments the gateway uses. Each process owns its registry; nothing
// registers globally.
package metrics

import (
	"fmt"
	"io"
	"net"
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

// Gauges is a collector of gauges read together on each scrape: read
// returns a value for each name in help (a name it leaves out is not
// reported that time). It suits state a process already keeps, such as a
// meta node's status, without a second copy to keep in step.
func Gauges(namespace string, help map[string]string, read func() (map[string]float64, error)) prometheus.Collector {
	g := &gauges{read: read, descs: map[string]*prometheus.Desc{}}
	for name, h := range help {
		g.descs[name] = prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), h, nil, nil)
	}
	return g
}

type gauges struct {
	read  func() (map[string]float64, error)
	descs map[string]*prometheus.Desc
}

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range g.descs {
		ch <- d
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	vals, err := g.read()
	for name, d := range g.descs {
		if err != nil {
			ch <- prometheus.NewInvalidMetric(d, err)
			continue
		}
		if v, ok := vals[name]; ok {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
		}
	}
}

// Serve serves reg at Path on addr until stop is called.
func Serve(addr string, reg *prometheus.Registry) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, Handler(reg))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }, nil
}
