package node

import (
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/prometheus/client_golang/prometheus"
)

// The kinds of message the metrics count.
const (
	metricIntent = "intent"
	metricCancel = "cancel"
	metricOffer  = "offer"
	metricAccept = "accept"
	metricThread = "thread"
)

// metrics are the node's Prometheus counters. They are registered with
// Config.Registerer when one is set (the daemon serves them at /metrics);
// otherwise they count unseen, which costs nothing worth a nil check.
type metrics struct {
	deliveredC *prometheus.CounterVec
	publishedC *prometheus.CounterVec
	droppedC   *prometheus.CounterVec
	rejectsC   *prometheus.CounterVec // by topic, verdict and reason
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deliveredC: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "intentcast", Name: "messages_delivered_total",
			Help: "Gossip messages that passed validation and were delivered, by kind.",
		}, []string{"kind"}),
		publishedC: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "intentcast", Name: "messages_published_total",
			Help: "Messages this node published, by kind.",
		}, []string{"kind"}),
		droppedC: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "intentcast", Name: "messages_dropped_total",
			Help: "Gossip messages the validators refused, by verdict (reject penalises the sender, ignore does not).",
		}, []string{"verdict"}),
		rejectsC: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "intentcast", Name: "gossip_refused_total",
			Help: "Gossip messages the validators refused, by topic, verdict and reason (docs/PROTOCOL.md's error codes).",
		}, []string{"topic", "verdict", "reason"}),
	}
	if reg != nil {
		for _, c := range []**prometheus.CounterVec{&m.deliveredC, &m.publishedC, &m.droppedC, &m.rejectsC} {
			shareRegistered(reg, c)
		}
	}
	return m
}

// shareRegistered registers *c; a second node on one registry shares the
// first one's collector (it was counting into an unregistered copy before).
func shareRegistered[C prometheus.Collector](reg prometheus.Registerer, c *C) {
	if err := reg.Register(*c); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			*c = are.ExistingCollector.(C)
		}
	}
}

func (m *metrics) rejected(topic, verdict, reason string) {
	m.rejectsC.WithLabelValues(topic, verdict, reason).Inc()
}

func (m *metrics) delivered(kind string) { m.deliveredC.WithLabelValues(kind).Inc() }
func (m *metrics) published(kind string) { m.publishedC.WithLabelValues(kind).Inc() }

func (m *metrics) dropped(v pubsub.ValidationResult) {
	label := "ignore"
	if v == pubsub.ValidationReject {
		label = "reject"
	}
	m.droppedC.WithLabelValues(label).Inc()
}
