package node

import (
	"math"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scoreBuckets are the peer score histogram's upper bounds: the graylist,
// publish and gossip thresholds, zero, and what good behaviour earns (up to
// topicScoreCap, and a bootstrap peer's trustedPeerScore on top).
var scoreBuckets = []float64{graylistThreshold, publishThreshold, gossipThreshold, 0, 5, 10, topicScoreCap, trustedPeerScore}

// scoreCollector shows the latest peer score reading in the metrics: how
// scores are spread over the connected peers (a histogram, never a label per
// peer ID: peer IDs are free to make, so per-peer series would let anyone
// grow the metrics without bound), the lowest, the graylisted peers, the
// denied ones and the disconnects.
type scoreCollector struct {
	w                                      *scoreWatch
	score, min, graylisted, denied, closed *prometheus.Desc
}

func newScoreCollector(w *scoreWatch) *scoreCollector {
	return &scoreCollector{
		w: w,
		score: prometheus.NewDesc("intentcast_peer_score",
			"Gossipsub scores of the connected peers at the latest reading; buckets at the graylist (-300), publish (-60) and gossip (-40) thresholds.", nil, nil),
		min: prometheus.NewDesc("intentcast_peer_score_min",
			"Lowest gossipsub score among the connected peers at the latest reading (absent with no peer).", nil, nil),
		graylisted: prometheus.NewDesc("intentcast_graylisted_peers",
			"Peers scored below the graylist threshold (-300) at the latest reading: still connected (graylisted for other reasons than their own invalid messages, or about to be closed) or gone (the router keeps their scores for 6 h).",
			[]string{"connected"}, nil),
		denied: prometheus.NewDesc("intentcast_graylist_denied_peers",
			"Peers whose connections are refused, both ways, because they were disconnected for invalid messages.", nil, nil),
		closed: prometheus.NewDesc("intentcast_graylist_disconnects_total",
			"Times this node closed a peer's connections because its invalid messages put it below the graylist threshold.", nil, nil),
	}
}

func (c *scoreCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.score, c.min, c.graylisted, c.denied, c.closed} {
		ch <- d
	}
}

func (c *scoreCollector) Collect(ch chan<- prometheus.Metric) {
	w := c.w
	w.mu.Lock()
	scores := slices.Clone(w.connected)
	graylisted, disconnects := w.graylisted, w.disconnects
	w.mu.Unlock()

	buckets := make(map[float64]uint64, len(scoreBuckets))
	var sum float64
	low := math.Inf(1)
	for _, s := range scores {
		sum += s
		low = min(low, s)
		for _, b := range scoreBuckets {
			if s <= b {
				buckets[b]++
			}
		}
	}
	ch <- prometheus.MustNewConstHistogram(c.score, uint64(len(scores)), sum, buckets)
	if len(scores) > 0 {
		ch <- prometheus.MustNewConstMetric(c.min, prometheus.GaugeValue, low)
	}
	ch <- prometheus.MustNewConstMetric(c.graylisted, prometheus.GaugeValue, float64(graylisted[1]), "true")
	ch <- prometheus.MustNewConstMetric(c.graylisted, prometheus.GaugeValue, float64(graylisted[0]), "false")
	ch <- prometheus.MustNewConstMetric(c.denied, prometheus.GaugeValue, float64(w.deny.size(time.Now())))
	ch <- prometheus.MustNewConstMetric(c.closed, prometheus.CounterValue, float64(disconnects))
}
