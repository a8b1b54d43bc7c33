package api

import (
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// apiMetrics are the API's own Prometheus metrics, served at /metrics
// beside the node's and the Go runtime's.
type apiMetrics struct {
	requests   *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	attempts   *prometheus.CounterVec
	dropped    prometheus.Counter
	streams    prometheus.Gauge
}

func newAPIMetrics(reg prometheus.Registerer) *apiMetrics {
	m := &apiMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "intentcast", Subsystem: "api", Name: "requests_total",
			Help: "API requests by route pattern and HTTP status.",
		}, []string{"route", "code"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "intentcast", Subsystem: "api", Name: "webhook_deliveries_total",
			Help: "Webhook deliveries by outcome: delivered, or failed after every retry (or a permanent 4xx).",
		}, []string{"outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "intentcast", Subsystem: "api", Name: "webhook_attempts_total",
			Help: "Webhook HTTP attempts by result (ok or error); retries count again.",
		}, []string{"result"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "intentcast", Subsystem: "api", Name: "webhook_dropped_total",
			Help: "Webhook events dropped because a receiver's queue was full (the oldest is dropped).",
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "intentcast", Subsystem: "api", Name: "event_streams",
			Help: "Open GET /v1/events streams.",
		}),
	}
	m.requests = register(reg, m.requests)
	m.deliveries = register(reg, m.deliveries)
	m.attempts = register(reg, m.attempts)
	m.dropped = register(reg, m.dropped)
	m.streams = register(reg, m.streams)
	return m
}

// register registers c, or returns the collector already registered under
// its name (two servers on one registry share their metrics).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

func (m *apiMetrics) request(route string, status int) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}
